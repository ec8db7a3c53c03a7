/**
 * @internal The body of the token counting worker (a `worker_threads` thread): it counts texts
 * with the same js-tiktoken encoding and the same {@link countExact} as the main thread, so its
 * counts are identical, and the main thread's event loop stays free while it works.
 *
 * Protocol: the main thread posts `{ id, encoding, texts, skip? }`; the worker answers
 * `{ id, counts }` (one count per text, in order) or `{ id, error }`. A text whose `skip` slot is
 * set when the worker comes to it (the main thread counted it meanwhile) is not counted: its count
 * is -1.
 */
import { parentPort } from 'node:worker_threads';
import { describeError } from '../core/errors.js';
import { getEncoder, type TokenEncoding } from './encoding-cache.js';
import { countExact } from './exact-count.js';

/** @internal A request to the worker. */
export interface CountRequest {
  id: number;
  encoding: TokenEncoding;
  texts: string[];
  /** One slot per text, over a `SharedArrayBuffer`: non-zero, the text is not counted (-1). */
  skip?: Int32Array;
}

/** @internal The worker's answer. */
export type CountAnswer =
  { id: number; encoding: TokenEncoding; counts: number[] } | { id: number; error: string };

const skipped = (request: CountRequest, i: number): boolean =>
  request.skip !== undefined && Atomics.load(request.skip, i) !== 0;

parentPort?.on('message', (request: CountRequest) => {
  let answer: CountAnswer;
  try {
    const encoder = getEncoder(request.encoding);
    answer = {
      id: request.id,
      encoding: request.encoding,
      counts: request.texts.map((text, i) => (skipped(request, i) ? -1 : countExact(encoder, text))),
    };
  } catch (error) {
    answer = { id: request.id, error: describeError(error) };
  }
  parentPort?.postMessage(answer);
});
