/**
 * @internal Token counts of a session's fixed parts (agent description, context, checkpoint),
 * persisted with the session through the store (`TokenCount`), so that loading a session to read
 * it needs no tokenizer. A persisted count is used only when it was made by the same counter on
 * the same content: `counter` is the estimator's name and a fingerprint of how parts are rendered
 * (a new renderer invalidates every count), `hash` a CRC-32 of what was counted.
 */
import zlib from 'node:zlib';
import { crc32Hex } from '../core/crc32.js';
import type { AgentDescription, Checkpoint, SessionContext } from '../core/types.js';
import { recordMessages } from '../compaction/ledger/index.js';
import { renderAgentDescription, renderCheckpoint, renderContext } from '../request/format.js';
import type { SessionCounts, TokenCount } from '../store/contract.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';

/** The parts of a session that counts are kept for. */
export interface FixedParts {
  agentDescription: AgentDescription | null;
  context: SessionContext | null;
  checkpoint: Checkpoint | null;
}

/** Tokens of each part (0 for a missing one) and the counts that were missing or stale. */
export interface FixedTokens {
  description: number;
  context: number;
  checkpoint: number;
  /** Counts made now: persist them. */
  fresh: Partial<SessionCounts>;
}

/** zlib's CRC-32 where Node has it (>= 20.15), ours otherwise: the same values. */
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;
const hashOf = (text: string) =>
  nativeCrc32 ? nativeCrc32(text).toString(16).padStart(8, '0') : crc32Hex(Buffer.from(text, 'utf8'));

/** A ledger with a request, a file, a command and a failure, so that its rendering is fingerprinted too. */
const SAMPLE_LEDGER = recordMessages(null, [
  {
    id: 'u',
    seq: 0,
    role: 'user',
    content: 'Fix the parser',
    timestamp: '2026-01-01T00:00:00.000Z',
    tokens: 4,
  },
  {
    id: 'a',
    seq: 1,
    role: 'assistant',
    content: [
      {
        type: 'tool_use',
        id: 't1',
        name: 'Edit',
        input: { file_path: 'src/p.ts', old_string: 'a', new_string: 'b' },
      },
      { type: 'tool_use', id: 't2', name: 'Bash', input: { command: 'npm test' } },
    ],
    timestamp: '2026-01-01T00:00:01.000Z',
    tokens: 30,
  },
  {
    id: 'r',
    seq: 2,
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 't1', content: 'edited' },
      { type: 'tool_result', tool_use_id: 't2', content: '1 failed', is_error: true },
    ],
    timestamp: '2026-01-01T00:00:02.000Z',
    tokens: 10,
  },
]);

/** How the renderers render a sample of everything: changes when they change. */
const RENDERING = hashOf(
  [
    renderAgentDescription({ role: 'r', instructions: 'i', tools: ['t'], extra: 'x' }),
    renderContext({ featureName: 'f', featureGoal: 'g', dependencies: ['d'], extra: { a: 1 } }),
    renderCheckpoint(
      { completed: ['c'], inProgress: ['i'], pending: ['p'], decisions: ['d'], blockers: ['b'] },
      [{ checkId: 'k', passed: false, error: 'e' }],
      SAMPLE_LEDGER,
    ),
  ].join('\n'),
);

/** @internal Who counts, as persisted counts name it. */
export function counterOf(estimator: TokenEstimator): string {
  return `${estimator.name}/${RENDERING}`;
}

/** @internal The text a part is counted by: the description or context as rendered into requests. */
export function textOf(
  part: keyof SessionCounts,
  value: AgentDescription | SessionContext | Checkpoint,
): string {
  if (part === 'description') return renderAgentDescription(value as AgentDescription);
  if (part === 'context') return renderContext(value as SessionContext);
  // What estimateCheckpoint counts comes from the whole checkpoint: its JSON identifies it.
  return JSON.stringify(value);
}

/** Texts counted lately, by estimator: most sessions of an agent type share its description. */
const recentCounts = new WeakMap<TokenEstimator, Map<string, number>>();
const RECENT_TEXTS = 32;

/** `estimator.estimate(text)`, remembered for the last few texts (an estimate is a function of the text). */
function estimateText(estimator: TokenEstimator, text: string): number {
  let recent = recentCounts.get(estimator);
  if (recent === undefined) recentCounts.set(estimator, (recent = new Map()));
  const known = recent.get(text);
  if (known !== undefined) return known;
  const tokens = estimator.estimate(text);
  if (recent.size >= RECENT_TEXTS) recent.delete(recent.keys().next().value!);
  recent.set(text, tokens);
  return tokens;
}

/**
 * @internal `estimator.estimate(text)` as {@link estimateText} takes it, a long text counted off
 * the main thread when the estimator can (`estimateAsync`), on this thread when it cannot.
 */
export async function estimateTextAsync(estimator: TokenEstimator, text: string): Promise<number> {
  const known = recentCounts.get(estimator)?.get(text);
  if (known !== undefined || estimator.estimateAsync === undefined) return estimateText(estimator, text);
  const tokens = await estimator.estimateAsync(text);
  let recent = recentCounts.get(estimator);
  if (recent === undefined) recentCounts.set(estimator, (recent = new Map()));
  if (recent.size >= RECENT_TEXTS) recent.delete(recent.keys().next().value!);
  recent.set(text, tokens);
  return tokens;
}

/**
 * @internal A lower bound of `estimator.estimate(text)` known without counting: the count when it
 * is remembered, else the estimator's `estimateFloor` (0 when it has none).
 */
export function tokensAtLeast(estimator: TokenEstimator, text: string): number {
  return recentCounts.get(estimator)?.get(text) ?? estimator.estimateFloor?.(text) ?? 0;
}

/**
 * @internal What a request may take as counted (`buildRequestOffThread`'s `known`): the persisted
 * count of the description or context when `text` is that part as rendered and the count was made
 * of this very text (its hash) by this estimator and renderer; undefined for any other text.
 */
export function storedCountOf(
  estimator: TokenEstimator,
  parts: Pick<FixedParts, 'agentDescription' | 'context'>,
  counts: SessionCounts,
): (text: string) => number | undefined {
  const counter = counterOf(estimator);
  const stored = [
    { part: 'description', value: parts.agentDescription, kept: counts.description },
    { part: 'context', value: parts.context, kept: counts.context },
  ] as const;
  return (text) => {
    for (const { part, value, kept } of stored) {
      if (value === null || kept === null || kept.counter !== counter) continue;
      if (text === textOf(part, value) && kept.hash === hashOf(text)) return kept.tokens;
    }
    return undefined;
  };
}

/** @internal The count to persist of a part whose `text` counts `tokens`. */
export function countOfText(estimator: TokenEstimator, text: string, tokens: number): TokenCount {
  return { tokens, counter: counterOf(estimator), hash: hashOf(text) };
}

/** @internal Counts one part now. */
export function countPart(
  estimator: TokenEstimator,
  part: keyof SessionCounts,
  value: AgentDescription | SessionContext | Checkpoint,
): TokenCount {
  const text = textOf(part, value);
  const tokens =
    part === 'checkpoint' ? estimator.estimateCheckpoint(value as Checkpoint) : estimateText(estimator, text);
  return { tokens, counter: counterOf(estimator), hash: hashOf(text) };
}

/**
 * @internal The count of `checkpoint` to persist: `counted.tokens` when `counted` is a checkpoint
 * whose count its maker took with `estimator` (a compaction's, `tokens` being `estimateCheckpoint`
 * of it) and `checkpoint` is the same checkpoint (the same JSON, which the count's hash is taken of
 * anyway: cheaper than a deep comparison); else counted now. A commit returns the store's copy,
 * whose checks may be newer ones recorded meanwhile (`keepChecks`): then it is counted again.
 */
export function checkpointCount(
  estimator: TokenEstimator,
  checkpoint: Checkpoint,
  counted: Checkpoint | undefined,
): TokenCount {
  const text = textOf('checkpoint', checkpoint);
  // The store's copy is the counted checkpoint itself when the commit kept it as it was (frozen).
  if (counted === undefined || (counted !== checkpoint && text !== textOf('checkpoint', counted)))
    return countPart(estimator, 'checkpoint', checkpoint);
  return { tokens: counted.tokens, counter: counterOf(estimator), hash: hashOf(text) };
}

/**
 * @internal The tokens of each fixed part: the persisted count when it matches, else counted now
 * (and returned in `fresh`, to be persisted). A long description or context without a matching
 * count (counts missing, or made by another counter) is counted off the main thread when the
 * estimator can (`estimateAsync`), so that loading such a session does not hold the event loop.
 */
export async function fixedTokensOf(
  estimator: TokenEstimator,
  parts: FixedParts,
  counts: SessionCounts,
): Promise<FixedTokens> {
  const fresh: Partial<SessionCounts> = {};
  const counter = counterOf(estimator);
  const tokensOf = async (
    part: keyof SessionCounts,
    value: AgentDescription | SessionContext | Checkpoint | null,
  ): Promise<number> => {
    if (value === null) return 0;
    const text = textOf(part, value);
    const kept = counts[part];
    if (kept !== null && kept.counter === counter && kept.hash === hashOf(text)) return kept.tokens;
    const count =
      part === 'checkpoint'
        ? countPart(estimator, part, value)
        : countOfText(estimator, text, await estimateTextAsync(estimator, text));
    fresh[part] = count;
    return count.tokens;
  };
  const [description, context, checkpoint] = await Promise.all([
    tokensOf('description', parts.agentDescription),
    tokensOf('context', parts.context),
    tokensOf('checkpoint', parts.checkpoint),
  ]);
  return { description, context, checkpoint, fresh };
}
