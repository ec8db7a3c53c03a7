/**
 * @internal The estimator one compaction counts with: the same counts, but a text is counted once.
 * A compaction counts the same checkpoint drafts again and again (the fit counts a draft, then the
 * compaction counts the draft it kept; the compactor's view counts the ledger the fit counts
 * next), and exact counting is most of a compaction's time. Nothing is kept past the compaction.
 */
import type { Checkpoint, CheckpointSummary } from '../core/types.js';
import { renderCheckpoint } from '../request/format.js';
import { TiktokenEstimator, type TokenEstimator } from '../tokens/token-estimator.js';

/**
 * @internal `estimator`, with `estimate` and `estimateCheckpoint` remembered by the text they
 * count (a checkpoint by its rendering, which is what the contract says it counts; not for the
 * exact TiktokenEstimator, which remembers a checkpoint's lines itself); every other method is the
 * estimator's own.
 * @example const estimator = countOnce(deps.estimator)
 */
export function countOnce(estimator: TokenEstimator): TokenEstimator {
  const texts = new Map<string, number>();
  const checkpoints = new Map<string, number>();
  const remembered = (map: Map<string, number>, key: string, count: () => number): number => {
    let tokens = map.get(key);
    if (tokens === undefined) {
      tokens = count();
      map.set(key, tokens);
    }
    return tokens;
  };
  return {
    name: estimator.name,
    estimate: (text) => remembered(texts, text, () => estimator.estimate(text)),
    estimateContent: (content) => estimator.estimateContent(content),
    estimateMessage: (message) => estimator.estimateMessage(message),
    estimateMessages: (messages) => estimator.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) =>
      checkpoint === null || typeof checkpoint !== 'object' || remembersLines(estimator)
        ? estimator.estimateCheckpoint(checkpoint) // throws what the estimator throws
        : remembered(checkpoints, rendered(checkpoint), () => estimator.estimateCheckpoint(checkpoint)),
  };
}

/** The text a checkpoint (or a summary alone) is counted as. */
function rendered(checkpoint: Checkpoint | CheckpointSummary): string {
  const isCheckpoint =
    'summary' in checkpoint && checkpoint.summary !== null && typeof checkpoint.summary === 'object';
  return isCheckpoint
    ? renderCheckpoint(checkpoint.summary, checkpoint.checks, checkpoint.ledger)
    : renderCheckpoint(checkpoint as CheckpointSummary);
}

/**
 * Whether the estimator remembers checkpoint lines itself (the exact {@link TiktokenEstimator}): a
 * checkpoint it counted again costs a rendering and look-ups, which remembering the rendering here
 * would only double.
 */
function remembersLines(estimator: TokenEstimator): boolean {
  return estimator instanceof TiktokenEstimator && estimator.mode === 'exact';
}
