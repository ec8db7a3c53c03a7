/**
 * @internal The body of the token counting worker (a `worker_threads` thread): it counts texts
 * with the same js-tiktoken encoding and the same {@link countExact} as the main thread, so its
 * counts are identical, and the main thread's event loop stays free while it works.
 *
 * Protocol: the main thread posts `{ id, encoding, texts }`; the worker answers
 * `{ id, counts }` (one count per text, in order) or `{ id, error }`.
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
}

/** @internal The worker's answer. */
export type CountAnswer =
  { id: number; encoding: TokenEncoding; counts: number[] } | { id: number; error: string };

parentPort?.on('message', (request: CountRequest) => {
  let answer: CountAnswer;
  try {
    const encoder = getEncoder(request.encoding);
    answer = {
      id: request.id,
      encoding: request.encoding,
      counts: request.texts.map((text) => countExact(encoder, text)),
    };
  } catch (error) {
    answer = { id: request.id, error: describeError(error) };
  }
  parentPort?.postMessage(answer);
});
