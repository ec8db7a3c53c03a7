/**
 * A token counter on a `worker_threads` thread: large texts are counted there, with the same
 * encoding and code as on the main thread (identical counts), so that counting a multi-megabyte
 * message does not freeze the host's event loop (its HTTP server, its UI). One thread serves the
 * requests in order; it starts on first use and ends after a quiet period, releasing the
 * encoding's memory (125-200 MB).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SessionError } from '../core/errors.js';
import type { CountAnswer, CountRequest } from './count-worker.js';
import { TOKEN_ENCODINGS, type TokenEncoding } from './encoding-cache.js';

/**
 * Counts texts off the main thread.
 *
 * @example
 * ```ts
 * const worker = createCountingWorker();
 * const [tokens] = await worker.count('cl100k_base', [hugeToolOutput]);
 * await worker.close();
 * ```
 */
export interface CountingWorker {
  /**
   * Exact token counts of `texts` (one per text, in order), as `countExact` counts them. With
   * `slots` (one per text, over a `SharedArrayBuffer`, all 0): a text whose slot the caller sets to
   * -1 before the thread comes to it is not counted, its count is -1 (the caller counts it itself);
   * otherwise the thread sets the slot to {@link SLOT_COUNTING} as it starts the text, then to the
   * count + 1, so the caller can take it before the answer comes. `Atomics.compareExchange(slots,
   * i, 0, -1)` claims a text not started, or tells the caller that it is being counted or counted.
   * @throws SessionError `IO_ERROR` when the thread cannot start or dies while counting;
   *   `INVALID_ARGUMENT` for an unknown encoding, a text that is not a string or too few slots.
   */
  count(encoding: TokenEncoding, texts: readonly string[], slots?: Int32Array): Promise<number[]>;
  /**
   * Whether the running thread has `encoding` loaded (it answered a count in it). When not, the
   * first call asks the thread (started if need be) to load it, so that it is ready soon: a caller
   * in a hurry counts on its own thread meanwhile. False again once the thread has ended.
   */
  ready(encoding: TokenEncoding): boolean;
  /** Ends the thread now (counts in flight are rejected). A later `count` starts a new one. */
  close(): Promise<void>;
}

/** @internal A text's slot while the thread counts it (see {@link CountingWorker.count}). */
export const SLOT_COUNTING = -2;

/** Options of {@link createCountingWorker}. */
export interface CountingWorkerOptions {
  /** The thread ends after this long without a request (default 30 s); the next request starts a new one. */
  idleMs?: number;
}

interface Pending {
  resolve: (counts: number[]) => void;
  reject: (error: unknown) => void;
}

/** @internal How to start the worker: the built `.js` file, or the `.ts` source through tsx (tests, `tsx`). */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./count-worker.js', here));
  // Running from sources: a thread does not inherit the main thread's TypeScript loader, so it
  // registers tsx's (a dev dependency) before loading the worker's source.
  const tsx = pathToFileURL(tsxEsmApi(createRequire(here))).href;
  const entry = new URL('./count-worker.ts', here).href;
  const bootstrap =
    `import(${JSON.stringify(tsx)}).then((api) => { api.register(); ` +
    `return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/** @internal The file of tsx's ESM API (`tsx/esm/api`, import condition), from its package.json. */
function tsxEsmApi(require: NodeRequire): string {
  const manifest = require.resolve('tsx/package.json');
  const exports = (require(manifest) as { exports: Record<string, { import: { default: string } }> }).exports;
  return path.join(path.dirname(manifest), exports['./esm/api']!.import.default);
}

/**
 * Creates a {@link CountingWorker}. The thread starts on the first `count`, does not keep the
 * process alive while idle, and ends after `idleMs` without requests.
 *
 * @param options - `idleMs` (default 30,000).
 * @throws SessionError `INVALID_ARGUMENT` for a bad `idleMs`.
 * @example
 * ```ts
 * const worker = createCountingWorker({ idleMs: 5_000 });
 * const counts = await worker.count('cl100k_base', ['hello world', 'x'.repeat(1_000_000)]);
 * ```
 */
export function createCountingWorker(options: CountingWorkerOptions = {}): CountingWorker {
  const idleMs = options.idleMs ?? 30_000;
  if (!(Number.isInteger(idleMs) && idleMs > 0))
    throw new SessionError(
      'INVALID_ARGUMENT',
      'tokens',
      `idleMs must be a positive integer, got ${String(idleMs)}`,
    );
  let worker: Worker | null = null;
  /** Encodings the running thread has loaded, and those it was asked to load. */
  let loaded = new Set<TokenEncoding>();
  let loading = new Set<TokenEncoding>();
  let nextId = 0;
  let idleTimer: NodeJS.Timeout | null = null;
  const pending = new Map<number, Pending>();

  function failAll(error: unknown): void {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  }

  function thread(): Worker {
    if (worker) return worker;
    const w = startWorker();
    const mine = (loaded = new Set());
    loading = new Set();
    w.on('message', (answer: CountAnswer) => {
      const p = pending.get(answer.id);
      if (!p) return;
      pending.delete(answer.id);
      if ('counts' in answer) {
        mine.add(answer.encoding);
        p.resolve(answer.counts);
      } else p.reject(new SessionError('IO_ERROR', 'tokens', `the counting worker failed: ${answer.error}`));
      settle();
    });
    const died = (reason: string, cause?: unknown) => {
      if (worker !== w) return;
      worker = null;
      loaded = new Set();
      loading = new Set();
      failAll(
        new SessionError('IO_ERROR', 'tokens', `the token counting worker ${reason}`, {
          cause,
          retryable: true,
        }),
      );
    };
    w.on('error', (error) => died(`failed: ${error.message}`, error));
    w.on('exit', (code) => died(`exited (code ${code})`));
    worker = w;
    return w;
  }

  /** Holds the process open only while counts are in flight; ends a quiet thread later. */
  function settle(): void {
    if (!worker) return;
    if (pending.size > 0) {
      worker.ref();
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = null;
      return;
    }
    worker.unref();
    idleTimer ??= setTimeout(() => {
      idleTimer = null;
      if (pending.size === 0) void close();
    }, idleMs);
    idleTimer.unref();
  }

  async function close(): Promise<void> {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    const w = worker;
    worker = null;
    loaded = new Set();
    loading = new Set();
    failAll(
      new SessionError('IO_ERROR', 'tokens', 'the token counting worker was closed', { retryable: true }),
    );
    if (w) await w.terminate();
  }

  const api: CountingWorker = {
    count(encoding, texts, slots) {
      if (!TOKEN_ENCODINGS.includes(encoding)) {
        return Promise.reject(
          new SessionError('INVALID_ARGUMENT', 'tokens', `unknown encoding ${JSON.stringify(encoding)}`),
        );
      }
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
        return Promise.reject(
          new SessionError('INVALID_ARGUMENT', 'tokens', 'count() expects a list of strings'),
        );
      }
      if (slots !== undefined && !(slots instanceof Int32Array && slots.length >= texts.length)) {
        return Promise.reject(
          new SessionError('INVALID_ARGUMENT', 'tokens', 'count() expects an Int32Array slot per text'),
        );
      }
      return new Promise<number[]>((resolve, reject) => {
        let w: Worker;
        try {
          w = thread();
        } catch (error) {
          reject(
            new SessionError('IO_ERROR', 'tokens', 'could not start the token counting worker', {
              cause: error,
            }),
          );
          return;
        }
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        settle();
        const request: CountRequest = { id, encoding, texts: [...texts], ...(slots ? { slots } : {}) };
        w.postMessage(request);
      });
    },
    ready(encoding) {
      if (worker !== null && loaded.has(encoding)) return true;
      if (worker !== null && loading.has(encoding)) return false;
      // Starts the thread if need be (which forgets what an ended one had), then asks it to load.
      const warming = api.count(encoding, ['']);
      const asked = loading;
      asked.add(encoding);
      // Failed: not loaded; the next call asks again.
      warming.catch(() => asked.delete(encoding));
      return false;
    },
    close,
  };
  return api;
}

let shared: CountingWorker | null = null;

/**
 * @internal The process-wide counting worker that estimators share (one thread, one encoding
 * load, whatever the number of runtimes).
 */
export function sharedCountingWorker(): CountingWorker {
  shared ??= createCountingWorker();
  return shared;
}
