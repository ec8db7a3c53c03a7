/**
 * A Messages API server of our own, for tests: node:http on 127.0.0.1, so that the real
 * `@anthropic-ai/sdk` can be pointed at it with `baseURL` and nothing is mocked.
 *
 * It speaks the wire format of the API (JSON and server-sent events, error bodies and statuses),
 * counts `usage.input_tokens` with `@anthropic-ai/tokenizer` (deliberately not our tokenizer),
 * answers a forced `record_checkpoint` with a summary built from the prompt (see
 * `summaryFromPrompt` in ./fake-model-replies.js) and any other request with an echo, and can be
 * scripted to fail, one fault per request, first in first out, or to reply with chosen content
 * blocks (`replyWith`). It records the `cache_control` breakpoints of each request and simulates
 * the prompt cache in `usage` (see ./prompt-cache.js).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { buildReply, replyEvents, type Reply } from './fake-model-replies.js';
import { createPromptCache, type CacheBreakpoint, type CacheUsage } from './prompt-cache.js';
import { scriptedEvents } from './scripted-reply.js';

export { summaryFromPrompt } from './fake-model-replies.js';

/** One way of answering badly. */
export type Fault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; message?: string }
  | { kind: 'hang' }
  | { kind: 'cut-stream'; afterEvents: number }
  | { kind: 'max-tokens' }
  | { kind: 'malformed-json'; in?: 'body' | 'tool-input' }
  | { kind: 'bad-tool-input'; input?: unknown }
  | { kind: 'plain-json-text'; fenced?: boolean }
  | { kind: 'prose' };

/** How the server answers when no scripted fault is left: well (`ok`), or always with a fault. */
export type Behaviour = { kind: 'ok' } | Fault;

/** What the server saw of one request. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** `x-api-key`, `authorization`, `anthropic-version`, `x-stainless-retry-count`, `content-type`, `accept`. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body (undefined when it did not parse). */
  body: unknown;
  stream: boolean;
  /**
   * Input tokens as @anthropic-ai/tokenizer counts the request's text (images by their pixels):
   * the whole input, cached or not.
   */
  inputTokens: number;
  /** The request's `cache_control` breakpoints, in request order, with the prefix each one names. */
  breakpoints: CacheBreakpoint[];
  /** What the simulated prompt cache read and wrote for it (0 and 0 for count_tokens and errors). */
  cache: CacheUsage;
  /** What it was answered with: `ok`, `count_tokens`, `error` or a fault kind. */
  answer: string;
  /** The client closed the connection before the answer was complete (abort, timeout). */
  clientClosed: boolean;
}

/** Options of {@link startMessagesApiServer}. */
export interface MessagesApiServerOptions {
  /** Behaviour once the script is empty. Default `{ kind: 'ok' }`. */
  behaviour?: Behaviour;
  /** Required key (`x-api-key` or `authorization: Bearer`); any non-empty key is accepted when unset. */
  apiKey?: string;
  /** Characters per `input_json_delta` / `text_delta` event. Default 64. */
  chunkChars?: number;
  /** Pause between two SSE events, in ms. Default 0. */
  eventDelayMs?: number;
  /** How the server counts input tokens. Default: @anthropic-ai/tokenizer over the request's text. */
  countTokens?: (text: string) => number;
  /** Prefixes shorter than this are not cached (default 1024, the API's minimum for most models). */
  minCacheableTokens?: number;
}

/** A running server. */
export interface MessagesApiServer {
  /** `http://127.0.0.1:<port>`, the SDK's `baseURL`. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Faults for the next requests to /v1/messages, one each, in order. */
  script(faults: Fault[]): void;
  /**
   * The content of the next good answer to /v1/messages (a reply as the API would give it:
   * thinking, server tool blocks, citations...), streamed as the API streams it. Queued.
   */
  replyWith(content: Array<Record<string, unknown>>, stopReason?: string): void;
  setDefault(behaviour: Behaviour): void;
  /** Resolves once `predicate()` holds (checked every 5 ms); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening and destroys every open socket (hanging requests included). */
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/**
 * Starts the server on 127.0.0.1 with a free port.
 *
 * @param options - Default behaviour, required key, stream chunking and pacing.
 * @returns The running server; call `close()` when done.
 * @example
 * ```ts
 * const server = await startMessagesApiServer();
 * const client = new Anthropic({ apiKey: 'test', baseURL: server.url });
 * server.script([{ kind: 'status', status: 529 }]);
 * ```
 */
export async function startMessagesApiServer(
  options: MessagesApiServerOptions = {},
): Promise<MessagesApiServer> {
  const tokenizer = getTokenizer();
  const requests: RecordedRequest[] = [];
  const queue: Fault[] = [];
  const sockets = new Set<Socket>();
  let behaviour: Behaviour = options.behaviour ?? { kind: 'ok' };
  let closed = false;
  const chunkChars = options.chunkChars ?? 64;
  const delay = options.eventDelayMs ?? 0;
  const count =
    options.countTokens ?? ((text: string) => tokenizer.encode(text.normalize('NFKC'), 'all').length);
  const cache = createPromptCache(count, blockText, options.minCacheableTokens ?? 1024);
  const replies: Array<{ content: Array<Record<string, unknown>>; stopReason: string }> = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const b = (body ?? {}) as Record<string, unknown>;
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        headers: Object.fromEntries(
          [
            'x-api-key',
            'authorization',
            'anthropic-version',
            'x-stainless-retry-count',
            'content-type',
            'accept',
          ].map((h) => [h, header(req, h)]),
        ),
        body,
        stream: b.stream === true,
        inputTokens: body === undefined ? 0 : count(requestText(b)) + imageTokensOf(b),
        breakpoints: [],
        cache: { read: 0, creation: 0 },
        answer: 'error',
        clientClosed: false,
      };
      requests.push(record);
      let finished = false;
      let cutByUs = false;
      res.on('finish', () => (finished = true));
      res.on('close', () => {
        if (!finished && !cutByUs) record.clientClosed = true;
      });
      const cut = () => {
        cutByUs = true;
        res.socket?.destroy();
      };
      void answer(record, b, res, cut);
    });
  });

  async function answer(
    record: RecordedRequest,
    b: Record<string, unknown>,
    res: http.ServerResponse,
    cut: () => void,
  ): Promise<void> {
    // SDK 1.x sends the key as a bearer token; older clients send x-api-key.
    const key = record.headers['x-api-key'] ?? record.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (
      record.method !== 'POST' ||
      (record.path !== '/v1/messages' && record.path !== '/v1/messages/count_tokens')
    ) {
      return sendError(res, 404, `${record.method} ${record.path} is not served here`);
    }
    if (!key || (options.apiKey !== undefined && key !== options.apiKey))
      return sendError(res, 401, 'invalid x-api-key');
    if (record.body === undefined) return sendError(res, 400, 'the request body is not valid JSON');
    if (typeof b.model !== 'string' || !Array.isArray(b.messages))
      return sendError(res, 400, 'model: Field required; messages: Field required');
    if (record.path === '/v1/messages/count_tokens') {
      record.answer = 'count_tokens';
      return sendJson(res, 200, { input_tokens: record.inputTokens });
    }
    if (typeof b.max_tokens !== 'number') return sendError(res, 400, 'max_tokens: Field required');
    const fault: Behaviour = queue.shift() ?? behaviour;
    record.answer = fault.kind;
    if (fault.kind === 'status') {
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return sendError(res, fault.status, fault.message ?? defaultMessage(fault.status), headers);
    }
    if (fault.kind === 'hang') return; // answered never; ends when the client or close() ends the socket
    const served = cache.serve(b, record.inputTokens);
    record.breakpoints = served.breakpoints;
    record.cache = served.usage;
    const reply: Reply = buildReply(b, fault, count);
    const scripted = fault.kind === 'ok' ? replies.shift() : undefined;
    const message = {
      ...reply.message,
      ...(scripted === undefined ? {} : { content: scripted.content, stop_reason: scripted.stopReason }),
      usage: {
        ...reply.message.usage,
        input_tokens: record.inputTokens - served.usage.read - served.usage.creation,
        cache_read_input_tokens: served.usage.read,
        cache_creation_input_tokens: served.usage.creation,
      },
    };
    if (!record.stream) {
      const text = JSON.stringify(message);
      if (fault.kind === 'malformed-json')
        return sendRaw(res, 200, text.slice(0, Math.floor(text.length / 2)));
      if (fault.kind === 'cut-stream') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(text)),
        });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        return cut();
      }
      return sendJson(res, 200, message);
    }
    const events =
      scripted === undefined
        ? replyEvents({ ...reply, message }, fault, chunkChars)
        : scriptedEvents(message, chunkChars);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': `req_${requests.length}`,
    });
    const paced = delay > 0 || fault.kind === 'cut-stream';
    for (const [index, event] of events.entries()) {
      if (fault.kind === 'cut-stream' && index >= fault.afterEvents) {
        // Let the client read what was sent, so that the cut falls mid-stream, not before the headers.
        await new Promise((resolve) => setTimeout(resolve, 20));
        return cut();
      }
      if (res.destroyed) return;
      if (paced) await new Promise<void>((resolve) => res.write(event, () => resolve()));
      else res.write(event);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    res.end();
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    script: (faults) => void queue.push(...faults),
    replyWith: (content, stopReason = 'end_turn') => void replies.push({ content, stopReason }),
    setDefault: (next) => void (behaviour = next),
    async waitFor(predicate, timeoutMs = 2_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > until)
          throw new Error(`messages-api-server: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      tokenizer.free();
    },
  };
}

/** @internal Everything of a request that a model reads as text: system, messages, tools. */
export function requestText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  const system = body.system;
  if (typeof system === 'string') parts.push(system);
  else if (Array.isArray(system)) parts.push(...system.map(blockText));
  for (const message of Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : []) {
    const content = message?.content;
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content)) parts.push(...content.map(blockText));
  }
  if (Array.isArray(body.tools)) parts.push(JSON.stringify(body.tools));
  return parts.join('\n');
}

/**
 * @internal The text of one block as the model reads it: text, a call's name and input, a
 * result's text; images count by their pixels instead ({@link imageTokensOf}), base64 never.
 */
export function blockText(value: unknown): string {
  const block = (value ?? {}) as Record<string, unknown>;
  if (typeof block.text === 'string') return block.text;
  if (block.type === 'tool_use' || block.type === 'server_tool_use')
    return `${String(block.name)} ${JSON.stringify(block.input ?? {})}`;
  if (block.type === 'image') return '';
  if (block.type === 'tool_result') {
    const content = block.content;
    if (typeof content === 'string') return content;
    return Array.isArray(content) ? content.map(blockText).join('\n') : '';
  }
  if (block.type === 'thinking') return String(block.thinking ?? '');
  return JSON.stringify(block, (key, v: unknown) =>
    key === 'data' || key === 'signature' || key.startsWith('encrypted') || key === 'cache_control'
      ? undefined
      : v,
  );
}

/**
 * @internal The pixels of the images of a request, in tokens, as the API documents it:
 * width * height / 750 after scaling to a long edge of 1568 px and about 1,600 tokens. Only PNG
 * headers are read here (what the tests send); any other image counts 1,600.
 */
export function imageTokensOf(body: Record<string, unknown>): number {
  let tokens = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    const block = value as { type?: unknown; source?: { type?: unknown; data?: unknown }; content?: unknown };
    if (block.type === 'image') {
      const data =
        block.source?.type === 'base64' && typeof block.source.data === 'string' ? block.source.data : '';
      const head = Buffer.from(data.slice(0, 32), 'base64');
      const png = head.length >= 24 && head.toString('latin1', 1, 4) === 'PNG';
      if (!png) tokens += 1600;
      else {
        const w = head.readUInt32BE(16);
        const h = head.readUInt32BE(20);
        const scale = Math.min(1, 1568 / Math.max(w, h));
        tokens += Math.min(1600, Math.ceil((w * scale * h * scale) / 750));
      }
    } else if (Array.isArray(block.content)) visit(block.content);
  };
  for (const message of Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [])
    visit(message?.content);
  return tokens;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function defaultMessage(status: number): string {
  if (status === 429) return 'Number of request tokens has exceeded your per-minute rate limit';
  if (status === 529) return 'Overloaded';
  if (status >= 500) return 'Internal server error';
  return `error ${status}`;
}

function sendError(
  res: http.ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  sendJson(res, status, { type: 'error', error: { type, message } }, headers);
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  sendRaw(res, status, JSON.stringify(value), headers);
}

function sendRaw(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'request-id': `req_${Date.now().toString(36)}`,
    ...headers,
  });
  res.end(text);
}
