/**
 * What the tests of counting off the main thread share: real-looking long text, and an estimator
 * whose counts are watched (which texts it counted on this thread, and whether the event loop
 * turned while a long text was counted on the worker).
 */
import { vi } from 'vitest';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';

/** Notes of `chars` characters: words, numbers and calls, a line break now and then. */
export function notes(chars: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', '1234', 'foo()', 'bar.baz', 'zeta'];
  const parts: string[] = [];
  for (let i = 0, length = 0; length < chars; i++) {
    const word = words[(i * 7) % words.length]! + (i % 13 === 12 ? '\n' : ' ');
    parts.push(word);
    length += word.length;
  }
  return parts.join('');
}

/**
 * An estimator whose counts are watched: `countedHere`, the length of every text counted on this
 * thread; `events`, 'count started', 'timer' and 'count done' around each count of a text of at
 * least `offThreadChars` made off this thread, with a timer set as it starts (it fires in between
 * when the event loop turns while the count goes on).
 */
export function watchedEstimator(offThreadChars?: number) {
  const estimator = new TiktokenEstimator(offThreadChars === undefined ? {} : { offThreadChars });
  const countedHere: number[] = [];
  const events: string[] = [];
  const estimate = estimator.estimate.bind(estimator);
  vi.spyOn(estimator, 'estimate').mockImplementation((text: string) => {
    countedHere.push(text.length);
    return estimate(text);
  });
  const estimateAsync = estimator.estimateAsync.bind(estimator);
  vi.spyOn(estimator, 'estimateAsync').mockImplementation(async (text: string) => {
    if (text.length < estimator.offThreadChars) return estimateAsync(text);
    events.push('count started');
    setTimeout(() => events.push('timer'), 0);
    const tokens = await estimateAsync(text);
    events.push('count done');
    return tokens;
  });
  return { estimator, countedHere, events };
}
