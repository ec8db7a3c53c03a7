/**
 * Questions a host asks of a runtime that its own API answers in pieces: the most recent messages
 * of a conversation (DAGent's `getRecentMessages`), and metrics of one session and of the whole
 * root (DAGent's `getCompactionMetrics`, and more). Built only on the runtime's public methods, so
 * they work over any runtime; the IPC channels `session:getRecentMessages`, `session:getMetrics`
 * and `session:getRuntimeMetrics` call them.
 */
import { SessionError } from '../core/errors.js';
import { isInternalMessage } from '../core/request-size.js';
import type { Message, SessionKey, SessionMachineState } from '../core/types.js';
import type { SessionInfo, SessionRuntime } from '../runtime/types.js';

/** How many messages {@link getRecentMessages} returns when not told: DAGent's default. */
export const DEFAULT_RECENT_MESSAGES = 10;

/**
 * What one session's metrics say: its state, message counts, tokens, compactions and last
 * compaction. Every figure is exact: the session is loaded to answer.
 *
 * @example const m: SessionMetrics = await sessionMetrics(runtime, 'feature--f1--pm'); m.tokens.request
 */
export interface SessionMetrics {
  id: string;
  key: SessionKey;
  /** `active`, or `archived` (read-only). */
  status: SessionInfo['status'];
  /** The actor's state: `idle`, `appending`, `compacting`, `failed`... */
  state: SessionMachineState;
  messages: {
    /** Every message ever appended. */
    total: number;
    /** Not yet folded into the checkpoint. */
    live: number;
    /** In the archive (folded, cleared or reset), still in the history. */
    archived: number;
  };
  tokens: {
    /** Of every message ever appended. */
    total: number;
    /** Of the live messages. */
    live: number;
    /** Of the checkpoint as it appears in a request. */
    checkpoint: number;
    /** Of the next request: description, context, checkpoint, live messages and room for the reply. */
    request: number;
    /** Of the last request built or sent. */
    lastRequest: number;
    /** The session's limit and the threshold at which it compacts. */
    limit: number;
    threshold: number;
  };
  compactions: {
    /** Versions of the checkpoint made so far (compactions, clears and resets). */
    total: number;
    lastAt: string | null;
    /** The last compaction this runtime ran for it (tokens before and after, duration...), or null. */
    last: SessionInfo['lastCompaction'];
  };
  checkpointVersion: number;
  compactor: string;
  /** Why the session is failed (a compaction failure, a file that did not load), or null. */
  error: SessionInfo['error'];
}

/**
 * Metrics of a whole root: how many sessions, in which state, of which agent type, and the sums of
 * their figures. Sums come from each session's `session.json` (`live` figures only from the
 * sessions in memory); nothing is loaded to answer.
 *
 * @example const m: RuntimeMetrics = await runtimeMetrics(runtime); m.sessions.byState.failed
 */
export interface RuntimeMetrics {
  root: string;
  compactor: string;
  sessions: {
    total: number;
    /** Session actors in memory now. */
    inMemory: number;
    byStatus: Record<SessionInfo['status'], number>;
    byState: Partial<Record<SessionMachineState, number>>;
    byAgentType: Record<string, number>;
    /** Sessions whose state is `failed`, with why. */
    failed: { id: string; code: string; message: string }[];
  };
  messages: { total: number; live: number };
  tokens: { total: number; live: number };
  compactions: { total: number; lastAt: string | null };
}

/**
 * The most recent messages of a session's whole history (archived and live), oldest first: what a
 * chat view shows on opening, also after compactions cleared the live messages. Messages the host
 * marked internal (`metadata.internal: true`) are left out, as DAGent's chat views did, unless
 * `includeInternal` is set: the last `limit` messages are then counted with them.
 *
 * @param runtime - The runtime.
 * @param id - The session id.
 * @param limit - How many, an integer >= 1; default {@link DEFAULT_RECENT_MESSAGES}.
 * @param options - `includeInternal`: count and return internal messages too.
 * @returns At most `limit` messages, the last ones.
 * @throws SessionError `INVALID_ARGUMENT` for a bad limit; what `getMessages` throws.
 * @example const last = await getRecentMessages(runtime, 'feature--f1--pm', 20);
 */
export async function getRecentMessages(
  runtime: SessionRuntime,
  id: string,
  limit: number = DEFAULT_RECENT_MESSAGES,
  options: { includeInternal?: boolean } = {},
): Promise<Message[]> {
  if (!(Number.isSafeInteger(limit) && limit >= 1))
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `limit must be an integer >= 1, got ${String(limit)}`,
    );
  const shown = (messages: Message[]) =>
    options.includeInternal === true ? messages : messages.filter((m) => !isInternalMessage(m));
  // The live messages usually suffice; the archive is read only when they do not.
  const live = shown(await runtime.getMessages(id));
  if (live.length >= limit) return live.slice(-limit);
  // Pages of the archive, newest first: only the segments they cover are read, and as many as it
  // takes to find `limit` messages that are shown.
  const found: Message[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await runtime.getHistory(id, { limit, ...(before === undefined ? {} : { before }) });
    found.push(...shown(page));
    if (found.length >= limit || page.length < limit) break;
    before = page[page.length - 1]!.seq;
  }
  return found.slice(0, limit).reverse();
}

/**
 * The metrics of one session ({@link SessionMetrics}).
 *
 * @param runtime - The runtime.
 * @param id - The session id.
 * @returns Its figures, exact.
 * @throws SessionError what `getSession` throws (`INVALID_KEY`, `SESSION_NOT_FOUND`...).
 * @example const { tokens } = await sessionMetrics(runtime, 'task--f1--t1--in_dev--dev');
 */
export async function sessionMetrics(runtime: SessionRuntime, id: string): Promise<SessionMetrics> {
  const info = await runtime.getSession(id);
  const size = await runtime.estimateSize(id);
  return {
    id: info.id,
    key: info.key,
    status: info.status,
    state: info.state,
    messages: {
      total: info.stats.totalMessages,
      live: info.liveMessages,
      archived: info.stats.totalMessages - info.liveMessages,
    },
    tokens: {
      total: info.stats.totalTokens,
      live: info.liveTokens,
      checkpoint: size.breakdown.checkpoint,
      request: size.total,
      lastRequest: info.stats.lastRequestTokens,
      limit: size.limit,
      threshold: size.threshold,
    },
    compactions: {
      total: info.stats.totalCompactions,
      lastAt: info.stats.lastCompactionAt,
      last: info.lastCompaction,
    },
    checkpointVersion: info.checkpointVersion,
    compactor: info.compactor,
    error: info.error,
  };
}

/**
 * The metrics of the runtime's whole root ({@link RuntimeMetrics}).
 *
 * @param runtime - The runtime.
 * @returns Counts per status, state and agent type, and the sums of every session's figures.
 * @throws SessionError `RUNTIME_CLOSED` for a closed runtime.
 * @example const { sessions } = await runtimeMetrics(runtime); console.log(sessions.total, sessions.failed);
 */
export async function runtimeMetrics(runtime: SessionRuntime): Promise<RuntimeMetrics> {
  const infos = await runtime.listSessions();
  const count = <K extends string>(key: (s: SessionInfo) => K): Record<K, number> => {
    const out = Object.create(null) as Record<K, number>;
    for (const s of infos) out[key(s)] = (out[key(s)] ?? 0) + 1;
    return { ...out };
  };
  const statuses: Partial<Record<SessionInfo['status'], number>> = count((s) => s.status);
  const lastAt = infos
    .map((s) => s.stats.lastCompactionAt)
    .filter((t): t is string => t !== null)
    .sort()
    .pop();
  return {
    root: runtime.root,
    compactor: runtime.compactor.name,
    sessions: {
      total: infos.length,
      inMemory: runtime.activeSessionIds().length,
      byStatus: { active: statuses.active ?? 0, archived: statuses.archived ?? 0 },
      byState: count((s) => s.state),
      byAgentType: count((s) => s.key.agentType),
      failed: infos
        .filter((s) => s.state === 'failed')
        .map((s) => ({ id: s.id, code: s.error?.code ?? 'UNKNOWN', message: s.error?.message ?? '' })),
    },
    messages: {
      total: infos.reduce((sum, s) => sum + s.stats.totalMessages, 0),
      live: infos.reduce((sum, s) => sum + s.liveMessages, 0),
    },
    tokens: {
      total: infos.reduce((sum, s) => sum + s.stats.totalTokens, 0),
      live: infos.reduce((sum, s) => sum + s.liveTokens, 0),
    },
    compactions: {
      total: infos.reduce((sum, s) => sum + s.stats.totalCompactions, 0),
      lastAt: lastAt ?? null,
    },
  };
}
