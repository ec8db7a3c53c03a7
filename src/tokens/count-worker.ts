/**
 * @internal The body of the token counting worker (a `worker_threads` thread): it counts texts
 * with the same js-tiktoken encoding and the same {@link countExact} as the main thread, so its
 * counts are identical, and the main thread's event loop stays free while it works.
 *
 * Protocol: the main thread posts `{ id, encoding, texts, slots? }`; the worker answers
 * `{ id, counts }` (one count per text, in order) or `{ id, error }`. With `slots` (one per text,
 * over a `SharedArrayBuffer`), a text whose slot the main thread set to -1 before the worker came
 * to it (it counts the text itself) is not counted: its count is -1. Otherwise the worker sets the
 * slot to -2 as it starts the text (the main thread then waits for this count instead of counting
 * the text too), and to the count + 1 once counted, where the main thread can take it before the
 * answer comes.
 */
import { parentPort } from 'node:worker_threads';
import { describeError } from '../core/errors.js';
import { getEncoder, type TokenEncoding } from './encoding-cache.js';
import { SLOT_COUNTING } from './counting-worker.js';
import { countExact } from './exact-count.js';

/** @internal A request to the worker. */
export interface CountRequest {
  id: number;
  encoding: TokenEncoding;
  texts: string[];
  /**
   * One slot per text, over a `SharedArrayBuffer`: 0, to count; -1, not counted (the main thread
   * counts it); -2, being counted; n + 1, counted n.
   */
  slots?: Int32Array;
}

/** @internal The worker's answer. */
export type CountAnswer =
  { id: number; encoding: TokenEncoding; counts: number[] } | { id: number; error: string };

/** The count of text `i`, -1 if its slot says the main thread counts it; recorded in the slot. */
function countOrSkip(
  encoder: ReturnType<typeof getEncoder>,
  text: string,
  slots: Int32Array | undefined,
  i: number,
): number {
  if (slots === undefined) return countExact(encoder, text);
  // Started: from now on the main thread waits for this count rather than counting the text too.
  if (Atomics.compareExchange(slots, i, 0, SLOT_COUNTING) !== 0) return -1;
  const tokens = countExact(encoder, text);
  Atomics.store(slots, i, tokens + 1);
  return tokens;
}

parentPort?.on('message', (request: CountRequest) => {
  let answer: CountAnswer;
  try {
    const encoder = getEncoder(request.encoding);
    answer = {
      id: request.id,
      encoding: request.encoding,
      counts: request.texts.map((text, i) => countOrSkip(encoder, text, request.slots, i)),
    };
  } catch (error) {
    answer = { id: request.id, error: describeError(error) };
  }
  parentPort?.postMessage(answer);
});
