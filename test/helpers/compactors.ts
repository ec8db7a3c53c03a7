/**
 * Compactors for tests that fail, hang or count, wrapped around the real offline compactor.
 */
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { SessionError } from '../../src/core/errors.js';
import type { CheckpointSummary } from '../../src/core/types.js';

export type Behaviour = 'ok' | 'throw' | 'hang' | 'garbage';

/** A compactor whose behaviour a test switches, and that counts its calls. */
export class ScriptedCompactor implements Compactor {
  readonly name = 'scripted';
  readonly maxInputTokens: number;
  behaviour: Behaviour = 'ok';
  /** Fail the call with this 1-based index (then behave as `behaviour`). */
  failOnCall: number | null = null;
  calls = 0;
  signals: AbortSignal[] = [];
  readonly #inner = new OfflineCompactor();

  constructor(maxInputTokens = 200_000) {
    this.maxInputTokens = maxInputTokens;
  }

  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    this.calls++;
    this.signals.push(options.signal);
    if (this.failOnCall === this.calls || this.behaviour === 'throw') {
      throw new SessionError(
        'COMPACTOR_UNAVAILABLE',
        'compaction',
        'scripted failure: the model is overloaded',
        { retryable: true },
      );
    }
    if (this.behaviour === 'hang') {
      await new Promise((_, reject) =>
        options.signal.addEventListener('abort', () => reject(new Error('aborted by the session'))),
      );
    }
    if (this.behaviour === 'garbage') {
      throw new SessionError(
        'COMPACTOR_MALFORMED',
        'compaction',
        'scripted: the model answered something that is not a checkpoint',
        { retryable: true },
      );
    }
    return this.#inner.compact(input, options);
  }
}
