/**
 * An exact (or approximate) estimator that tallies the checkpoint renderings it counts, by their
 * text: how many times a compaction, or the runtime after its commit, counted each one.
 */
import type { Checkpoint, CheckpointSummary } from '../../src/core/types.js';
import { renderCheckpoint } from '../../src/request/format.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';

export class TallyingEstimator extends TiktokenEstimator {
  readonly counted = new Map<string, number>();
  override estimateCheckpoint(checkpoint: Checkpoint | CheckpointSummary): number {
    const c = checkpoint as Partial<Checkpoint>;
    const text =
      c.ledger !== undefined
        ? renderCheckpoint(c.summary!, c.checks, c.ledger)
        : renderCheckpoint(checkpoint as CheckpointSummary);
    this.counted.set(text, (this.counted.get(text) ?? 0) + 1);
    return super.estimateCheckpoint(checkpoint);
  }
}
