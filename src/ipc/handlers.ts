/**
 * One handler table for every transport: channel → handler that checks its arguments, calls the
 * runtime and answers an {@link IpcResult} envelope. Handlers never throw.
 */
import type { CheckpointEdit, DecisionInput } from '../core/checkpoint-change.js';
import { SessionError, asIoError, describeError } from '../core/errors.js';
import type {
  AgentDescription,
  CheckResult,
  ContentBlock,
  MessageInput,
  SessionContext,
  SessionKey,
} from '../core/types.js';
import type { RequestFormat } from '../request/build-request.js';
import type { HistoryQuery } from '../runtime/history.js';
import type { ClearOptions, CreateSessionOptions, SessionRuntime } from '../runtime/types.js';
import { migrateAll } from '../migration/migrate.js';
import { capMessage, checkArguments } from './arguments.js';
import {
  SESSION_CHANNELS,
  type IpcMigrateOptions,
  type IpcSendOptions,
  type IpcError,
  type IpcResult,
  type RecentMessagesOptions,
  type SessionAPI,
  type SessionChannel,
} from './channels.js';
import { getRecentMessages, runtimeMetrics, sessionMetrics } from './session-queries.js';

/**
 * What a channel's handler resolves to in `value`: the result of the {@link SessionAPI} method
 * of the same name (`null` for those that return nothing).
 * @example type Info = ChannelResult<'session:get'>; // SessionInfo
 */
export type ChannelResult<C extends SessionChannel> =
  C extends `session:${infer M extends Exclude<keyof SessionAPI, 'onEvent'>}`
    ? Awaited<ReturnType<SessionAPI[M]>> extends void
      ? null
      : Awaited<ReturnType<SessionAPI[M]>>
    : never;

/**
 * A channel's handler: takes the raw arguments of a call, never throws, never rejects.
 * @example const result = await handlers['session:get']('feature--f1--pm');
 */
export type SessionHandler<C extends SessionChannel = SessionChannel> = (
  ...args: unknown[]
) => Promise<IpcResult<ChannelResult<C>>>;

/**
 * The handler of every channel (a null-prototype object: a channel name from outside cannot
 * reach `__proto__` or `constructor`).
 * @example const handlers: SessionHandlers = createSessionHandlers(runtime);
 */
export type SessionHandlers = { readonly [C in SessionChannel]: SessionHandler<C> };

type Call = (runtime: SessionRuntime, args: unknown[]) => Promise<unknown>;
type UserMessage = string | ContentBlock[];
type RequestOptions = { format?: RequestFormat } | undefined;

// Arguments reach these only after checkArguments, so the casts restate what was checked.
const CALLS: Record<SessionChannel, Call> = {
  'session:create': (r, [key, options]) =>
    r.createSession(key as SessionKey, options as CreateSessionOptions | undefined),
  'session:get': (r, [id]) => r.getSession(id as string),
  'session:reopen': (r, [id]) => r.reopenSession(id as string),
  'session:list': (r) => r.listSessions(),
  'session:addMessage': (r, [id, message]) => r.addMessage(id as string, message as MessageInput),
  'session:getMessages': (r, [id]) => r.getMessages(id as string),
  'session:getHistory': (r, [id, query]) =>
    query === undefined ? r.getHistory(id as string) : r.getHistory(id as string, query as HistoryQuery),
  'session:getCheckpoint': (r, [id, options]) =>
    r.getCheckpoint(id as string, options as { version?: number } | undefined),
  'session:getCheckpointVersions': (r, [id]) => r.getCheckpointVersions(id as string),
  'session:estimateSize': (r, [id]) => r.estimateSize(id as string),
  'session:buildRequest': (r, [id, message, options]) =>
    r.buildRequest(id as string, message as UserMessage, options as RequestOptions),
  'session:previewRequest': (r, [id, message, options]) =>
    r.previewRequest(id as string, message as UserMessage | undefined, options as RequestOptions),
  'session:compact': (r, [id, options]) =>
    r.compact(id as string, options as { keepRecentTokens?: number } | undefined),
  'session:cancelCompaction': (r, [id]) => r.cancelCompaction(id as string),
  'session:clearMessages': (r, [id, options]) =>
    r.clearMessages(id as string, options as ClearOptions | undefined),
  'session:reset': (r, [id]) => r.reset(id as string),
  'session:export': (r, [id]) => r.exportSession(id as string),
  'session:archive': (r, [id]) => r.archiveSession(id as string),
  'session:setContext': (r, [id, context]) => r.setContext(id as string, context as SessionContext),
  'session:setAgentDescription': (r, [id, description]) =>
    r.setAgentDescription(id as string, description as AgentDescription),
  'session:getContext': (r, [id]) => r.getContext(id as string),
  'session:getAgentDescription': (r, [id]) => r.getAgentDescription(id as string),
  'session:recordChecks': (r, [id, checks]) => r.recordChecks(id as string, checks as CheckResult[]),
  'session:editCheckpoint': (r, [id, edit]) => r.editCheckpoint(id as string, edit as CheckpointEdit),
  'session:recordDecision': (r, [id, decision]) => r.recordDecision(id as string, decision as DecisionInput),
  'session:send': (r, [id, message, options]) =>
    r.send(id as string, message as UserMessage, (options ?? {}) as IpcSendOptions),
  'session:getRecentMessages': (r, [id, limit, options]) =>
    getRecentMessages(
      r,
      id as string,
      limit as number | undefined,
      options as RecentMessagesOptions | undefined,
    ),
  'session:getMetrics': (r, [id]) => sessionMetrics(r, id as string),
  'session:getRuntimeMetrics': (r) => runtimeMetrics(r),
  'session:migrate': (r, [options]) =>
    migrateAll(r.root, { ...(options as IpcMigrateOptions | undefined), runtime: r }),
};

/**
 * Turns anything thrown into the plain error that crosses a transport: a `SessionError` keeps its
 * code, message and retryability; anything else is an `INTERNAL_ERROR` (a bug to report).
 *
 * @param channel - Named in the message of an unexpected error.
 * @example toIpcError(new SessionError('SESSION_NOT_FOUND', 'runtime', 'no session "x"'), 'session:get')
 */
export function toIpcError(error: unknown, channel: string): IpcError {
  // A Node system error that reached a transport is an I/O failure, never "a bug": IO_ERROR.
  const translated = asIoError(error, 'runtime', channel);
  if (translated instanceof SessionError)
    return {
      code: translated.code,
      message: capMessage(translated.message),
      retryable: translated.retryable,
      ...plainDetails(translated.details),
    };
  let reason: string;
  try {
    reason = describeError(error);
  } catch {
    reason = 'a value that cannot be described';
  }
  return {
    code: 'INTERNAL_ERROR',
    message: capMessage(
      `[dagent-sessions] [runtime] ${channel} failed unexpectedly: ${reason}. ` +
        `This is a bug in dagent-sessions or the runtime given to it; please report it with this message`,
    ),
    retryable: false,
  };
}

/** `{ details }` when the error's details cross a transport as JSON, else nothing. */
function plainDetails(details: Record<string, unknown>): { details?: Record<string, unknown> } {
  if (Object.keys(details).length === 0) return {};
  try {
    return { details: JSON.parse(JSON.stringify(details)) as Record<string, unknown> };
  } catch {
    return {};
  }
}

/**
 * The handler table over a runtime: one handler per {@link SESSION_CHANNELS} entry. Each checks
 * the number and the types of its arguments before it calls the runtime (a refused call writes
 * nothing), and answers `{ ok: true, value }` or `{ ok: false, error: { code, message, retryable } }`;
 * it never throws. Values are the runtime's plain JSON data; `null` for calls that return nothing.
 *
 * @param runtime - The runtime to serve; the handlers do not close it.
 * @returns A frozen, null-prototype channel → handler table.
 * @example
 * ```ts
 * const handlers = createSessionHandlers(runtime);
 * const result = await handlers['session:addMessage']('feature--f1--pm', { role: 'user', content: 'hi' });
 * if (!result.ok) console.error(result.error.code, result.error.message);
 * ```
 */
export function createSessionHandlers(runtime: SessionRuntime): SessionHandlers {
  const table = Object.create(null) as Record<SessionChannel, SessionHandler>;
  for (const channel of SESSION_CHANNELS) {
    const call = CALLS[channel];
    table[channel] = async (...args: unknown[]): Promise<IpcResult<never>> => {
      try {
        const value = await call(runtime, checkArguments(channel, args));
        return { ok: true, value: (value === undefined ? null : value) as never };
      } catch (error) {
        return { ok: false, error: toIpcError(error, channel) };
      }
    };
  }
  return Object.freeze(table) as SessionHandlers;
}

/**
 * Looks a channel name from outside up in a handler table, without reaching inherited properties.
 * @returns The handler, or undefined for a name that is not a channel.
 * @example const handler = handlerOf(handlers, url.pathname.slice('/rpc/'.length));
 */
export function handlerOf(handlers: SessionHandlers, channel: string): SessionHandler | undefined {
  return Object.hasOwn(handlers, channel)
    ? (handlers[channel as SessionChannel] as SessionHandler)
    : undefined;
}
