/**
 * The default estimator with its later counts (`estimateMessageLater`, the counts taken after an
 * append's write) in the test's hands: while held, they wait for `release`, so a test decides when
 * a count arrives instead of racing the counting worker.
 */
import {
  createTokenEstimator,
  type LaterCountOptions,
  type TokenEstimator,
} from '../../src/tokens/token-estimator.js';

type LaterMessage = Parameters<NonNullable<TokenEstimator['estimateMessageLater']>>[0];

/**
 * `passes` names the counts never held (say, those taken on the main thread: `countHere`). `real` is
 * the estimator underneath, for the exact counts and bounds a test expects.
 */
export function heldLaterCounts(passes: (options?: LaterCountOptions) => boolean = () => false) {
  const real = createTokenEstimator();
  const waiting: (() => void)[] = [];
  let held = false;
  const estimator = new Proxy(real, {
    get(target, prop) {
      if (prop === 'estimateMessageLater') {
        return async (message: LaterMessage, options?: LaterCountOptions) => {
          if (held && !passes(options)) await new Promise<void>((resolve) => waiting.push(resolve));
          return target.estimateMessageLater(message, options);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as TokenEstimator;
  return {
    real,
    estimator,
    hold: () => (held = true),
    /** How many counts wait for `release`. */
    held: () => waiting.length,
    release: () => {
      held = false;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}
