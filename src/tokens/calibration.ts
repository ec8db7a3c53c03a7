/**
 * Token counts that learn from the API. No local tokenizer matches Claude's, so every response's
 * `usage.input_tokens` is compared with the local estimate of the request that produced it, and a
 * per-model correction factor (smoothed, bounded) scales the estimates that thresholds use.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';

/** One model's learned correction. */
export interface CalibrationState {
  model: string;
  /** Multiply a local estimate by this to predict the model's count. */
  factor: number;
  samples: number;
  /** |estimate × factor − actual| / actual of the last observation, before it was learned. */
  lastError: number | null;
}

/** Options of {@link TokenCalibration}. A name that is none of these is refused with `INVALID_ARGUMENT`. */
export interface TokenCalibrationOptions {
  /** Weight of a new observation in the moving average (default 0.3). */
  smoothing?: number;
  /** Smallest and largest factor allowed (default 0.5 and 2). */
  minFactor?: number;
  maxFactor?: number;
  /** Observations of fewer estimated tokens are ignored as too noisy (default 50). */
  minTokens?: number;
}

/** Every option of {@link TokenCalibrationOptions} (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  smoothing: true,
  minFactor: true,
  maxFactor: true,
  minTokens: true,
} satisfies Record<keyof TokenCalibrationOptions, true>);

/**
 * Per-model correction factors learned from observed counts.
 *
 * @example
 * ```ts
 * const calibration = new TokenCalibration()
 * calibration.observe('claude-sonnet-4-5', 10_000, 11_200) // estimate, usage.input_tokens
 * calibration.correct('claude-sonnet-4-5', 20_000)         // about 22,400: the first observation sets × 1.12
 * calibration.observe('claude-sonnet-4-5', 10_000, 10_000) // later ones move it by 0.3 of the way: × 1.084
 * ```
 */
export class TokenCalibration {
  readonly #states = new Map<string, CalibrationState>();
  readonly #smoothing: number;
  readonly #min: number;
  readonly #max: number;
  readonly #minTokens: number;

  constructor(options: TokenCalibrationOptions = {}) {
    checkOptionNames(
      options,
      OPTION_NAMES,
      (what) => new SessionError('INVALID_ARGUMENT', 'tokens', `TokenCalibration: ${what}`),
    );
    this.#smoothing = options.smoothing ?? 0.3;
    this.#min = options.minFactor ?? 0.5;
    this.#max = options.maxFactor ?? 2;
    this.#minTokens = options.minTokens ?? 50;
    if (!(this.#smoothing > 0 && this.#smoothing <= 1)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'tokens',
        `smoothing must be in (0, 1], got ${String(options.smoothing)}`,
      );
    }
    if (!(this.#min > 0 && this.#min <= 1 && this.#max >= 1)) {
      throw new SessionError('INVALID_ARGUMENT', 'tokens', 'minFactor must be in (0, 1] and maxFactor >= 1');
    }
  }

  /**
   * Learns from one observation: the local estimate of a request and the count the API reported.
   * Returns the model's state afterwards. Nonsense (non-finite, non-positive) is ignored.
   */
  observe(model: string, estimated: number, actual: number): CalibrationState {
    const state = this.state(model);
    if (!(
      Number.isFinite(estimated) &&
      Number.isFinite(actual) &&
      estimated >= this.#minTokens &&
      actual > 0
    ))
      return state;
    const ratio = Math.min(this.#max, Math.max(this.#min, actual / estimated));
    const lastError = Math.abs(estimated * state.factor - actual) / actual;
    // The first observation sets the factor; later ones move it by the smoothing weight.
    const factor = state.samples === 0 ? ratio : state.factor + this.#smoothing * (ratio - state.factor);
    const next: CalibrationState = {
      model,
      factor: Math.min(this.#max, Math.max(this.#min, factor)),
      samples: state.samples + 1,
      lastError,
    };
    this.#states.set(model, next);
    return next;
  }

  /** The corrected count: `ceil(estimate × factor)`; the estimate itself for an unknown model. */
  correct(model: string | undefined, estimate: number): number {
    if (model === undefined) return estimate;
    return Math.ceil(estimate * this.factor(model));
  }

  /** The model's factor, 1 until something was observed. */
  factor(model: string): number {
    return this.#states.get(model)?.factor ?? 1;
  }

  /** The model's state. */
  state(model: string): CalibrationState {
    return this.#states.get(model) ?? { model, factor: 1, samples: 0, lastError: null };
  }

  /** Every model observed so far. */
  states(): CalibrationState[] {
    return [...this.#states.values()];
  }
}
