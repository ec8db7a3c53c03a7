/**
 * The fault matrix through the real runtime: a session compacting with AnthropicCompactor, the
 * real SDK, and the test Messages API server failing in every way it can. For each fault the
 * session loses nothing, its files do not change, it reports the error with a clear reason, and
 * the next success recovers it. Then a long real transcript, compacted in chunks.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicCompactor } from '../../src/compaction/anthropic-compactor.js';
import { isSessionError } from '../../src/core/errors.js';
import { replayConversation } from '../../src/integration/replay.js';
import { loadTranscript } from '../../src/integration/transcript.js';
import { createSessionRuntime, type SessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { settle } from '../helpers/settle.js';
import { exists, snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { DEV_TASK_KEY as DEV } from '../helpers/fixtures.js';
import { startTestMessagesApi } from '../helpers/messages-api.js';
import type { Fault, MessagesApiServer } from '../support/messages-api-server.js';

const text = (i: number) =>
  `Step ${i}: edited src/module-${i}.ts and ran npm test. ${'lorem ipsum dolor '.repeat(60)}`;

const runtimes: SessionRuntime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});

// Long enough that a loaded 2-core machine never turns a good or failing answer into a timeout;
// only the hang case, which never answers, uses a short one.
const PATIENT_MS = 60_000;
const HANG_TIMEOUT_MS = 300;

type CompactorOptions = ConstructorParameters<typeof AnthropicCompactor>[0];

async function openRuntime(
  root: string,
  server: MessagesApiServer,
  options: CompactorOptions,
  maxTokens: number,
) {
  const compactor = new AnthropicCompactor({
    baseURL: server.url,
    apiKey: 'test',
    maxRetries: 1,
    timeoutMs: PATIENT_MS,
    clientOptions: { logLevel: 'off' },
    ...options,
  });
  const runtime = await createSessionRuntime({
    root,
    compactor,
    limits: { maxTokens },
    compaction: { retryBaseMs: 60_000 },
  });
  runtimes.push(runtime);
  return runtime;
}

async function setup(compactorOptions: CompactorOptions = {}, maxTokens = 4_000) {
  const server = await startTestMessagesApi();
  const root = await tempRoot();
  const runtime = await openRuntime(root, server, compactorOptions, maxTokens);
  const events: SessionEvent[] = [];
  runtime.subscribe((e) => events.push(e));
  return { server, root, runtime, events };
}

const MATRIX: Array<[string, Fault, string, RegExp]> = [
  [
    '429 rate limited',
    { kind: 'status', status: 429, retryAfterSeconds: 0.01 },
    'COMPACTOR_UNAVAILABLE',
    /429 rate_limit_error .*the SDK retried once/,
  ],
  [
    '529 overloaded',
    { kind: 'status', status: 529, retryAfterSeconds: 0.01 },
    'COMPACTOR_UNAVAILABLE',
    /529 overloaded_error .*the SDK retried once/,
  ],
  [
    '500 server error',
    { kind: 'status', status: 500, retryAfterSeconds: 0.01 },
    'COMPACTOR_UNAVAILABLE',
    /500 api_error .*the SDK retried once/,
  ],
  ['a hang past the timeout', { kind: 'hang' }, 'COMPACTOR_TIMEOUT', /within 300 ms \(timeoutMs\)/],
  [
    'a stream cut in the middle',
    { kind: 'cut-stream', afterEvents: 5 },
    'COMPACTOR_UNAVAILABLE',
    /the answer stream was cut after/,
  ],
  [
    'stop_reason max_tokens',
    { kind: 'max-tokens' },
    'COMPACTOR_MALFORMED',
    /cut at max_tokens .*raise maxTokens/,
  ],
  ['malformed JSON', { kind: 'malformed-json' }, 'COMPACTOR_MALFORMED', /answer is not valid JSON/],
  [
    'a tool input that fails the schema',
    { kind: 'bad-tool-input' },
    'COMPACTOR_MALFORMED',
    /"completed" must be an array of strings, got a string/,
  ],
  [
    'prose instead of a checkpoint',
    { kind: 'prose' },
    'COMPACTOR_MALFORMED',
    /neither a record_checkpoint call nor a JSON checkpoint/,
  ],
];

describe('fault matrix: AnthropicCompactor through the runtime', () => {
  it.each(MATRIX)(
    '%s: nothing lost, files unchanged, clear error, recovers on the next success',
    async (_, fault, code, reason) => {
      const hang = fault.kind === 'hang';
      const { server, root, runtime, events } = await setup(hang ? { timeoutMs: HANG_TIMEOUT_MS } : {});
      server.setDefault(fault);
      const { id } = await runtime.createSession(DEV);
      for (let i = 0; i < 30; i++)
        await runtime.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: text(i) });
      await settle(runtime, id);

      // The automatic compaction failed, and reported why.
      const info = await runtime.getSession(id);
      expect(info.state).toBe('failed');
      expect(info.error?.code).toBe(code);
      expect(info.error?.message).toMatch(reason);
      expect(events.find((e) => e.type === 'session.compaction.failed')).toMatchObject({
        code,
        retryable: true,
      });
      const dir = path.join(root, '.dagent', 'sessions', id);
      expect(await exists(path.join(dir, 'checkpoint.json'))).toBe(false);
      expect(await exists(path.join(dir, 'archive', '000001.json'))).toBe(false);

      // A manual attempt fails the same way and changes no byte.
      const before = await snapshotDir(dir);
      const requestsBefore = server.requests.length;
      const error = await runtime.compact(id).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isSessionError(error)).toBe(true);
      expect((error as { code: string }).code).toBe(code);
      expect((error as Error).message).toMatch(reason);
      expect(server.requests.length).toBeGreaterThan(requestsBefore);
      expect(await snapshotDir(dir)).toEqual(before);
      const history = await runtime.getHistory(id);
      expect(history.map((m) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => text(i)));

      // The next success recovers: in the same runtime, or, after a hang (whose compactor's short
      // timeout a good answer on a loaded machine could also pass), in the next one on the root.
      server.setDefault({ kind: 'ok' });
      let recovering = runtime;
      if (hang) {
        await runtime.close();
        recovering = await openRuntime(root, server, {}, 4_000);
      }
      const result = await recovering.compact(id);
      expect(result.kind).toBe('compacted');
      expect(result.checkpointVersion).toBe(1);
      const recovered = await recovering.getSession(id);
      expect(recovered.state).toBe('idle');
      expect(recovered.error).toBeNull();
      expect((await recovering.getCheckpoint(id))?.compactionInfo.compactor).toBe(
        'anthropic:claude-sonnet-5-5',
      );
      expect((await recovering.getHistory(id)).map((m) => m.content)).toEqual(history.map((m) => m.content));
    },
  );
});

const TRANSCRIPTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/transcripts');
const LONGEST = path.join(TRANSCRIPTS, 'cc-console-bookminder-day-021.json');
const present = existsSync(LONGEST);

const SKIPPED = present
  ? ''
  : ' (skipped: ../shared/transcripts/cc-console-bookminder-day-021.json is absent beside this checkout)';

describe.skipIf(!present)(`compaction of a long real transcript through the server${SKIPPED}`, () => {
  it('cc-console-bookminder-day-021: compacted in chunks, no request over the limit, history intact', async () => {
    const transcript = await loadTranscript(LONGEST);
    const { server, runtime, events } = await setup(
      { maxInputTokens: 20_000, timeoutMs: 30_000, maxRetries: 0 },
      100_000,
    );
    const requestsPerCompaction: number[] = [];
    let startedAt = 0;
    runtime.subscribe((e) => {
      if (e.type === 'session.compaction.started') startedAt = server.requests.length;
      if (e.type === 'session.compaction.completed')
        requestsPerCompaction.push(server.requests.length - startedAt);
    });
    const { id } = await runtime.createSession({ ...DEV, taskId: 'day-021' });
    const report = await replayConversation(runtime, id, transcript.messages);
    const largest = Math.max(...server.requests.map((r) => r.inputTokens));
    console.log(
      `day-021 through the Messages API server: ${report.messages} ` +
        `messages, ${report.compactions.length} compactions, ` +
        `${server.requests.length} server requests, ` +
        `requests per compaction (chunks) [${requestsPerCompaction.join(', ')}], ` +
        `largest compactor request ${largest} input tokens (limit 20,000), ` +
        `largest session request ${report.largestRequest}/${report.limit}, ` +
        `failures ${report.failures.length}, ${(report.totalMs / 1000).toFixed(1)} s`,
    );
    expect(report.failures).toEqual([]);
    expect(report.compactions.length).toBeGreaterThan(0);
    expect(requestsPerCompaction.some((n) => n > 1)).toBe(true);
    expect(largest).toBeLessThanOrEqual(20_000);
    expect(report.requestsOverLimit).toBe(0);
    expect(report.historyIntact).toBe(true);
    expect(report.historyMessages).toBe(transcript.messages.length);
    expect(events.filter((e) => e.type === 'session.compaction.failed')).toEqual([]);
  });
});
