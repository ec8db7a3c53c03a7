/**
 * How long one large `addMessage` over HTTP blocks the host's event loop, by how its tokens are
 * counted: on the main thread at once (what the runtime did before), on the main thread in slices
 * that yield between them, or on the counting worker (what it does now). While the append runs,
 * `/health` is asked again and again; the table shows the event loop's longest stall, how long
 * `/health` waited at worst, and the append's own time.
 */
import { readFile, readdir, rm, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ContentBlock, Role } from '../../src/core/types.js';
import { serveSessions } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { getEncoder } from '../../src/tokens/encoding-cache.js';
import { MAX_CHUNK, countExact, safeCut } from '../../src/tokens/exact-count.js';
import {
  MESSAGE_OVERHEAD_TOKENS,
  createTokenEstimator,
  type TokenEstimator,
} from '../../src/tokens/token-estimator.js';
import type { BenchTable } from './run.js';

const SIZE = 5 * 1024 * 1024;

async function realText(bytes: number): Promise<string> {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/transcripts');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  let text = (await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n');
  if (text.length === 0)
    text = Array.from({ length: 100_000 }, (_, i) => `word${i} edits file${i % 97}.ts; `).join('');
  while (text.length < bytes) text += `\n${text}`;
  return text.slice(0, bytes);
}

/** The obvious alternative to a thread: count on the main thread in slices, yielding between them. */
function slicedEstimator(): TokenEstimator {
  const real = createTokenEstimator({ offThreadChars: Infinity });
  const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    name: 'sliced',
    estimate: (text) => real.estimate(text),
    estimateContent: (content) => real.estimateContent(content),
    estimateMessage: (message) => real.estimateMessage(message),
    estimateMessages: (messages) => real.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) => real.estimateCheckpoint(checkpoint),
    async estimateMessageAsync(message: { role: Role; content: string | ContentBlock[] }) {
      if (typeof message.content !== 'string') return real.estimateMessage(message);
      const encoder = getEncoder('cl100k_base');
      const text = message.content;
      let total = 0;
      for (let start = 0; start < text.length;) {
        const end = text.length - start > MAX_CHUNK ? safeCut(text, start, start + MAX_CHUNK) : text.length;
        total += countExact(encoder, text.slice(start, end));
        start = end;
        await yieldNow();
      }
      return total + MESSAGE_OVERHEAD_TOKENS;
    },
  };
}

interface Measure {
  stallMs: number;
  healthWorstMs: number;
  healthAnswers: number;
  appendMs: number;
  tokens: number;
}

async function measure(estimator: TokenEstimator, content: string): Promise<Measure> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-bench-loop-'));
  const runtime = await createSessionRuntime({ root, estimator, limits: { maxTokens: 10_000_000 } });
  const server = await serveSessions(runtime);
  try {
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'bench' });
    const body = JSON.stringify([id, { role: 'user', content }]);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    let done = false;
    const append = fetch(`${server.url}/rpc/session:addMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    }).then(async (response) => {
      const answer = (await response.json()) as { ok: boolean; value?: { tokens: number } };
      done = true;
      if (!answer.ok) throw new Error(`append failed: ${JSON.stringify(answer).slice(0, 300)}`);
      return answer.value!.tokens;
    });
    let healthWorstMs = 0;
    let healthAnswers = 0;
    while (!done) {
      const asked = performance.now();
      await fetch(`${server.url}/health`).then((r) => r.arrayBuffer());
      healthWorstMs = Math.max(healthWorstMs, performance.now() - asked);
      healthAnswers++;
    }
    const tokens = await append;
    const appendMs = performance.now() - started;
    delay.disable();
    return { stallMs: delay.max / 1e6, healthWorstMs, healthAnswers, appendMs, tokens };
  } finally {
    await server.close();
    await runtime.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs the benchmark. */
export async function run(): Promise<BenchTable> {
  const content = await realText(SIZE);
  createTokenEstimator().warmUp();
  const variants: [string, TokenEstimator][] = [
    ['main thread, at once (before)', createTokenEstimator({ offThreadChars: Infinity })],
    ['main thread, 20k-char slices that yield', slicedEstimator()],
    ['counting worker (now)', createTokenEstimator()],
  ];
  const rows: (string | number)[][] = [];
  for (const [name, estimator] of variants) {
    const m = await measure(estimator, content);
    rows.push([
      name,
      Math.round(m.stallMs),
      Math.round(m.healthWorstMs),
      m.healthAnswers,
      Math.round(m.appendMs),
      m.tokens,
    ]);
  }
  return {
    title: `Event loop while a ${SIZE / 1024 / 1024} MiB message is appended over HTTP`,
    columns: [
      'counting',
      'longest event-loop stall (ms)',
      'worst /health wait (ms)',
      '/health answers meanwhile',
      'append (ms)',
      'tokens',
    ],
    rows,
    notes: [
      'Same process for server, runtime and the /health prober (as in a host). Text: the shared transcripts, repeated.',
      'Stall: max of perf_hooks.monitorEventLoopDelay (5 ms resolution) over the append. Slices are cut where the',
      'tokenizer cuts (safeCut), so their count may differ from ' +
        'the whole text only inside runs longer than 100 characters.',
    ],
  };
}
