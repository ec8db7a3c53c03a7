/**
 * One evaluation run: a transcript replayed at one limit through the real runtime (default offline
 * compactor, real files), then its probe facts looked for in the final request and in the two
 * truncation baselines built from the same history.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Checkpoint, Limits, Message } from '../../src/core/types.js';
import { loadTranscript } from '../../src/integration/transcript.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { checkpointItems, type NoiseCorpus, type NoiseCount, countNoise } from './noise.js';
import { type Fact, type FactKind, normalise, probeFacts } from './probes.js';
import { readRawTranscript, type RawMessage } from './raw-transcript.js';

/** What the three ways of building a request recalled of one fact. */
export interface FactResult {
  kind: FactKind;
  label: string;
  /** Whether one of its evidence messages is still sent verbatim by the runtime. */
  live: boolean;
  runtime: boolean;
  /** Truncation to the same request size as the runtime's final request. */
  sameSize: boolean;
  /** Truncation to the whole window (limit less the reply reserve). */
  window: boolean;
}

/** One transcript at one limit. */
export interface RunResult {
  file: string;
  maxTokens: number;
  limits: Limits;
  facts: FactResult[];
  messages: number;
  appendedTokens: number;
  compactions: number;
  /** Request estimate right after each compaction (tokens). */
  afterCompaction: number[];
  finalRequestTokens: number;
  /** Tokens of every checkpoint version seen, in order. */
  checkpointTokens: number[];
  checkpointBudget: number;
  /** Noise of the final checkpoint. */
  noise: NoiseCount;
  /** `<thinking>` items in any checkpoint version. */
  thinkingItemsAnyVersion: number;
  /** The final checkpoint, for inspection (`--json`). */
  finalCheckpoint: Checkpoint | null;
}

/** Options of one run. */
export interface RunOptions {
  maxTokens: number;
  /** Extra limits (for example `targetAfterCompaction`), passed to the runtime as given. */
  limits?: Record<string, number>;
}

/** Replays `file` at `options.maxTokens` and measures recall. */
export async function evaluateTranscript(file: string, options: RunOptions): Promise<RunResult> {
  const raw = readRawTranscript(file);
  const transcript = await loadTranscript(file);
  const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-eval-'));
  const runtime = await createSessionRuntime({
    root,
    durable: false,
    limits: { maxTokens: options.maxTokens, ...options.limits } as Partial<Limits>,
  });
  try {
    const session = await runtime.createSession({
      type: 'task',
      agentType: 'dev',
      featureId: 'eval',
      taskId: path.basename(file).replace(/\W+/g, '-').slice(0, 60),
      taskState: 'in_dev',
    });
    const id = session.id;
    const seen = new Map<number, Promise<Checkpoint | null>>();
    const afterCompaction: number[] = [];
    const unsubscribe = runtime.subscribe((event) => {
      if (event.sessionId !== id || event.type !== 'session.compaction.completed') return;
      if (event.result.kind !== 'compacted') return;
      afterCompaction.push(event.tokensAfter);
      seen.set(event.result.checkpointVersion, runtime.getCheckpoint(id));
    });
    for (const message of transcript.messages) {
      if (message.role === 'assistant') {
        // The agent is about to call the model: make sure the request fits, as replayConversation does.
        const size = await runtime.estimateSize(id);
        if (size.needsCompaction) await runtime.compact(id).catch(() => undefined);
      }
      await runtime.addMessage(id, message);
    }
    const built = await runtime.buildRequest(id, 'Continue.', { format: 'messages' });
    unsubscribe();
    const versions = (await Promise.all(seen.values())).filter((c): c is Checkpoint => c !== null);
    const finalCheckpoint = await runtime.getCheckpoint(id);
    const live = (await runtime.getMessages(id)).slice(built.omittedMessages);
    const history = await runtime.getHistory(id);
    const limits = session.limits;

    const runtimeText = normalise(
      [built.systemPrompt, ...built.messages.map((m) => contentText(m.content))].join('\n'),
    );
    const liveIndices = new Set(live.map(indexOf));
    const sameSize = truncate(raw.messages, history, built.totalTokens - built.breakdown.replyReserve);
    const window = truncate(raw.messages, history, limits.maxTokens - limits.replyReserveTokens);
    const facts = probeFacts(raw.messages).map((fact: Fact): FactResult => ({
      kind: fact.kind,
      label: fact.label,
      live: fact.evidence.some((i) => liveIndices.has(i)),
      runtime: fact.recalled(runtimeText),
      sameSize: fact.recalled(sameSize),
      window: fact.recalled(window),
    }));
    const corpus = noiseCorpus(raw.messages);
    const thinkingItemsAnyVersion = versions.reduce(
      (sum, checkpoint) => sum + countNoise(checkpointItems(checkpoint), corpus).thinking,
      0,
    );
    return {
      file: path.basename(file),
      maxTokens: options.maxTokens,
      limits,
      facts,
      messages: raw.messages.length,
      appendedTokens: history.reduce((sum, m) => sum + m.tokens, 0),
      compactions: afterCompaction.length,
      afterCompaction,
      finalRequestTokens: built.totalTokens,
      checkpointTokens: versions.map((c) => c.tokens),
      checkpointBudget: limits.checkpointTokens,
      noise: countNoise(finalCheckpoint === null ? [] : checkpointItems(finalCheckpoint), corpus),
      thinkingItemsAnyVersion,
      finalCheckpoint,
    };
  } finally {
    await runtime.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** The transcript index an imported message came from. */
function indexOf(message: Message): number {
  const index = message.metadata?.['transcriptIndex'];
  return typeof index === 'number' ? index : -1;
}

/**
 * What an agent that only truncates would send: the newest messages whose stored tokens fit
 * `budget`, as their raw text, oldest first.
 */
function truncate(raw: readonly RawMessage[], history: readonly Message[], budget: number): string {
  const kept: string[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    if (used + message.tokens > budget) break;
    used += message.tokens;
    kept.push(raw[indexOf(message)]?.content ?? '');
  }
  return normalise(kept.reverse().join('\n'));
}

/** The text of request content: strings, text blocks, tool inputs' strings, results, thinking. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: Record<string, unknown>) => {
      if (block.type === 'text') return String(block.text ?? '');
      if (block.type === 'tool_use') return `${String(block.name)} ${strings(block.input).join('\n')}`;
      if (block.type === 'tool_result') return contentText(block.content);
      if (block.type === 'thinking') return String(block.thinking ?? '');
      return '';
    })
    .join('\n');
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The transcript's texts that checkpoint items are compared with to find noise. */
function noiseCorpus(messages: readonly RawMessage[]): NoiseCorpus {
  const thinking: string[] = [];
  const narration: string[] = [];
  const other: string[] = [];
  for (const m of messages) {
    const text = normalise(m.content);
    if (m.role === 'assistant' && m.toolName === undefined) {
      if (/^✻ thinking|<thinking>/.test(text)) thinking.push(text);
      else narration.push(text);
    } else other.push(text);
  }
  return { thinking: thinking.join('\n'), narration: narration.join('\n'), other: other.join('\n') };
}
