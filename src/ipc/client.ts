/**
 * The HTTP client: the same {@link SessionAPI} as the Electron preload, over `serveSessions`.
 * Uses the global `fetch` (Node 20, browsers) and reads the event stream from the fetch body,
 * so it also sends the token on `/events` (which `EventSource` cannot).
 */
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { SessionEvent } from '../runtime/events.js';
import { createSessionApiFromInvoke, type EventFeed } from './api.js';
import { SESSION_EVENT_CHANNEL, SessionIpcError, type IpcError, type SessionAPI } from './channels.js';

/**
 * Options of {@link createSessionClient}.
 * @example const options: SessionClientOptions = { token: process.env.DAGENT_TOKEN, reconnectMs: 2_000 };
 */
export interface SessionClientOptions {
  /** The server's token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /**
   * Delay before the event stream reconnects after it ended or failed; default 1000 ms, 0 never.
   * Events in between are not replayed.
   */
  reconnectMs?: number;
}

/**
 * What {@link createSessionClient} returns: the {@link SessionAPI}, plus control of its event stream.
 * @example const client: SessionClient = createSessionClient('http://127.0.0.1:7420');
 */
export interface SessionClient extends SessionAPI {
  /** The server's base URL. */
  readonly url: string;
  /**
   * Resolves once the event stream that `onEvent` opened is connected: from then on every event
   * reaches the listeners. Rejects when it could not connect, or when no listener is registered.
   */
  eventsConnected(): Promise<void>;
  /**
   * Stops the event stream and its reconnections for good (listeners receive nothing more; make a
   * new client for a new stream); the other methods keep working.
   */
  close(): void;
}

function failure(code: IpcError['code'], message: string, cause?: unknown): SessionIpcError {
  return new SessionIpcError(
    { code, message: `[dagent-sessions] [runtime] ${message}`, retryable: code === 'CONNECTION_FAILED' },
    cause === undefined ? undefined : { cause },
  );
}

const CLIENT_OPTIONS = optionNames({
  token: true,
  fetch: true,
  reconnectMs: true,
} satisfies Record<keyof SessionClientOptions, true>);

function strictJson(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError(`${value} cannot be sent as JSON`);
  return value;
}

/**
 * @internal Reads a `text/event-stream` body and calls `onEvent(name, data)` per event; comment
 * lines (heartbeats) are skipped. Resolves when the stream ends.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onEvent: (name: string, data: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  let name = '';
  let data: string[] = [];
  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent(name || 'message', data.join('\n'));
      name = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += decoder.decode(value, { stream: !done });
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop() ?? '';
      lines.forEach(line);
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * A {@link SessionAPI} over a `serveSessions` server. Each method POSTs its arguments to
 * `/rpc/<channel>` and resolves to the value, or throws a {@link SessionIpcError} with the
 * server's code and message (`CONNECTION_FAILED` when the server cannot be reached,
 * `INVALID_ARGUMENT` for arguments JSON cannot carry: cycles, NaN, BigInt). `onEvent` opens one
 * `GET /events` stream shared by all listeners, reconnecting after `reconnectMs`.
 *
 * @param url - The server's `url`, such as `http://127.0.0.1:53211`.
 * @param options - `token` of a guarded server; `fetch`; `reconnectMs`.
 * @throws SessionIpcError `INVALID_ARGUMENT` for a URL that is not http(s), or a name none of its options.
 * @example
 * ```ts
 * const client = createSessionClient(server.url, { token });
 * const stop = client.onEvent((e) => console.log(e.type));
 * await client.eventsConnected();
 * await client.compact('feature--f1--pm');
 * stop();
 * ```
 */
export function createSessionClient(url: string, options: SessionClientOptions = {}): SessionClient {
  // A misspelt `tokn` would send no token: every call refused with a 401 that names no cause.
  checkOptionNames(options, CLIENT_OPTIONS, (message) =>
    failure('INVALID_ARGUMENT', `createSessionClient: ${message}`),
  );
  let base: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`protocol ${parsed.protocol}`);
    base = parsed.href.replace(/\/+$/, '');
  } catch (error) {
    throw failure(
      'INVALID_ARGUMENT',
      `createSessionClient needs the http(s) URL of serveSessions, got ${JSON.stringify(String(url)).slice(0, 200)}`,
      error,
    );
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  const reconnectMs = options.reconnectMs ?? 1_000;
  const auth: Record<string, string> =
    options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };

  const invoke = async (channel: string, ...args: unknown[]): Promise<unknown> => {
    let body: string;
    try {
      body = JSON.stringify(args, strictJson);
    } catch (error) {
      throw failure(
        'INVALID_ARGUMENT',
        `${channel}: the arguments cannot be sent as JSON ` +
          `(${error instanceof Error ? error.message : String(error)}); ` +
          `pass plain data without cycles, NaN or BigInt`,
        error,
      );
    }
    let text: string;
    let status: number;
    try {
      const response = await fetchFn(`${base}/rpc/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw failure(
        'CONNECTION_FAILED',
        `${channel}: could not reach ${base} ` +
          `(${error instanceof Error ? error.message : String(error)}); is serveSessions running there?`,
        error,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw failure(
        'INTERNAL_ERROR',
        `${channel}: ${base} answered ${status} with something that is not JSON; is it a dagent-sessions server?`,
        error,
      );
    }
  };

  let connected: Promise<void> | null = null;
  let stopCurrent: (() => void) | null = null;
  const feed: EventFeed = (deliver) => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      let settle!: (error?: unknown) => void;
      connected = new Promise<void>((resolve, reject) => {
        settle = (error) => (error === undefined ? resolve() : reject(error));
      });
      connected.catch(() => undefined); // nobody may be waiting for it
      void (async () => {
        try {
          const response = await fetchFn(`${base}/events`, {
            headers: { accept: 'text/event-stream', ...auth },
            signal: controller.signal,
          });
          if (!response.ok || response.body === null) {
            const answer = (await response.json().catch(() => null)) as { error?: IpcError } | null;
            throw answer?.error
              ? new SessionIpcError(answer.error)
              : failure('CONNECTION_FAILED', `GET /events answered ${response.status}`);
          }
          settle();
          await readEventStream(response.body, (name, data) => {
            if (name !== SESSION_EVENT_CHANNEL) return;
            try {
              deliver(JSON.parse(data) as SessionEvent);
            } catch (error) {
              console.error('[dagent-sessions] [runtime] an event from the server could not be read:', error);
            }
          });
        } catch (error) {
          settle(
            error instanceof SessionIpcError
              ? error
              : failure(
                  'CONNECTION_FAILED',
                  `the event stream of ${base} failed (${error instanceof Error ? error.message : String(error)})`,
                  error,
                ),
          );
        }
        if (controller.signal.aborted || reconnectMs === 0) return;
        timer = setTimeout(connect, reconnectMs);
        timer.unref?.();
      })();
    };
    connect();
    const stop = () => {
      controller.abort();
      clearTimeout(timer);
      if (stopCurrent === stop) {
        stopCurrent = null;
        connected = null;
      }
    };
    stopCurrent = stop;
    return stop;
  };

  const api = createSessionApiFromInvoke(invoke, feed);
  return {
    ...api,
    url: base,
    eventsConnected: () =>
      connected ??
      Promise.reject(
        failure('INVALID_ARGUMENT', 'eventsConnected: no event stream is open; call onEvent(listener) first'),
      ),
    close: () => stopCurrent?.(),
  };
}
