/**
 * The deprecated entry points of the legacy PM chat (`loadChat`, `saveChat`), kept as a thin
 * layer over sessions so that old callers keep working while they move to the runtime API.
 * See docs/migration.md.
 */
import { SessionError, isSessionError } from '../core/errors.js';
import { sessionIdOf } from '../core/ids.js';
import type { Message, SessionKey } from '../core/types.js';
import { parsePMChat } from '../migration/legacy-entries.js';
import { readDagentSession } from '../migration/dagent-session.js';
import { documentedPmChatRef, findLegacyFiles } from '../migration/find-legacy.js';
import { DEFAULT_MAX_FILE_BYTES, readLegacyFile, type LegacyFileRef } from '../migration/legacy-file.js';
import { migratePMChat } from '../migration/migrate.js';
import { contentToText } from '../request/format.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionRuntime } from '../runtime/types.js';

/** One entry of a legacy PM chat. */
export interface LegacyChatEntry {
  role: 'user' | 'assistant';
  content: string;
  /** ISO-8601. */
  timestamp: string;
  /** Paths of attached files. */
  media?: string[];
}

/** A legacy PM chat: `{ entries: [...] }`. */
export interface LegacyChat {
  entries: LegacyChatEntry[];
}

/** Options of {@link loadChat} and {@link saveChat}. */
export interface LegacyChatOptions {
  /** The host's runtime for this root; without it one is opened (read-only for `loadChat`) and closed. */
  runtime?: SessionRuntime;
}

const DOC = 'docs/migration.md of the dagent-sessions package';
let warned = false;

/** Warns once per process, whichever deprecated function is called first. */
function warnDeprecated(name: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `${name}() and the other legacy chat functions are deprecated: PM chats live in sessions now. ` +
      `Use createSessionRuntime() and the feature's PM session; see ${DOC}`,
    {
      type: 'DeprecationWarning',
      code: 'DAGENT_DEPRECATED',
    },
  );
}

const keyOf = (featureId: string): SessionKey => ({ type: 'feature', agentType: 'pm', featureId });

/**
 * The session's history as a legacy chat: user and assistant messages, in order (system messages
 * have no legacy form).
 */
function toChat(
  history: readonly Pick<Message, 'role' | 'content' | 'timestamp' | 'metadata'>[],
): LegacyChat {
  const entries: LegacyChatEntry[] = [];
  for (const m of history) {
    if (m.role === 'system') continue;
    const media = m.metadata?.media;
    const kept =
      Array.isArray(media) && media.every((x) => typeof x === 'string') ? (media as string[]) : undefined;
    entries.push({
      role: m.role,
      content: typeof m.content === 'string' ? m.content : contentToText(m.content),
      timestamp: m.timestamp,
      ...(kept ? { media: kept } : {}),
    });
  }
  return { entries };
}

/** Validates a legacy chat the way the migration does; returns its entries as message inputs. */
function validChat(root: string, featureId: string, value: unknown, what: string) {
  const outcome = parsePMChat(value, documentedPmChatRef(root, featureId));
  if (!outcome.ok)
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `[compat] ${what}: ${outcome.reason}`);
  const problems = outcome.parsed.problems;
  if (problems.length > 0) {
    const listed = problems
      .slice(0, 5)
      .map((p) => `${p.field} ${p.reason}`)
      .join('; ');
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `[compat] ${what} has ${problems.length} invalid field(s): ${listed}${problems.length > 5 ? '; ...' : ''}`,
      { details: { problems } },
    );
  }
  return outcome.parsed.messages;
}

async function withRuntime<T>(
  root: string,
  runtime: SessionRuntime | undefined,
  readOnly: boolean,
  work: (runtime: SessionRuntime) => Promise<T>,
): Promise<T> {
  if (runtime) return work(runtime);
  const own = await createSessionRuntime({ root, readOnly });
  try {
    return await work(own);
  } finally {
    await own.close();
  }
}

/** The PM chat of a feature that only DAGent's own session files hold, or null. */
async function ownPmSession(refs: readonly LegacyFileRef[]): Promise<LegacyChat | null> {
  for (const ref of refs) {
    if (ref.kind !== 'dagent-session') continue;
    const read = await readDagentSession(ref, DEFAULT_MAX_FILE_BYTES);
    if (!read.ok || !read.outcome.ok) continue;
    const { key, messages } = read.outcome.parsed;
    if (key?.type !== 'feature' || key.agentType !== 'pm') continue;
    return toChat(messages.map((m) => ({ ...m.input, timestamp: m.input.timestamp ?? '' })));
  }
  return null;
}

/**
 * Reads a feature's PM chat in the legacy shape, from its PM session (`feature--<featureId>--pm`).
 * Before the chat is migrated, it reads the legacy `chat.json` itself (read-only).
 *
 * @deprecated Use the PM session: `runtime.getHistory(sessionIdOf({ type: 'feature', agentType: 'pm', featureId }))`.
 *   See docs/migration.md.
 * @param root - The directory holding `.dagent/`.
 * @param featureId - The feature.
 * @param options - `runtime`: the host's runtime, if one is open.
 * @returns `{ entries }`, every user and assistant message in order, with `media` when it had any.
 * @throws SessionError `INVALID_KEY` for an unsafe featureId; `CORRUPT_FILE` when the unmigrated
 *   legacy file is invalid.
 * @example
 * ```ts
 * const chat = await loadChat('/repo', 'checkout') // { entries: [{ role: 'user', content: '...', timestamp: '...' }] }
 * ```
 */
export async function loadChat(
  root: string,
  featureId: string,
  options: LegacyChatOptions = {},
): Promise<LegacyChat> {
  warnDeprecated('loadChat');
  const id = sessionIdOf(keyOf(featureId));
  return withRuntime(root, options.runtime, true, async (runtime) => {
    try {
      return toChat(await runtime.getHistory(id));
    } catch (error) {
      if (!isSessionError(error, 'SESSION_NOT_FOUND')) throw error;
    }
    const { refs } = await findLegacyFiles(runtime.root, { featureId });
    const ref = refs.find((r) => r.kind === 'pm-chat') ?? documentedPmChatRef(runtime.root, featureId);
    if (ref.layout === 'documented' && !refs.includes(ref)) {
      // No chat.json anywhere: DAGent's own PM session of the feature, if it kept one.
      const own = await ownPmSession(refs);
      if (own) return own;
    }
    const read = await readLegacyFile(ref, DEFAULT_MAX_FILE_BYTES);
    if (!read.ok) {
      if (read.reason.startsWith('no legacy file')) return { entries: [] };
      throw new SessionError('CORRUPT_FILE', 'runtime', `[compat] ${read.reason}`, {
        details: { file: ref.absolute },
      });
    }
    try {
      return toChat(
        validChat(runtime.root, featureId, read.value, ref.relative).map((m) => ({
          ...m.input,
          timestamp: m.input.timestamp ?? '',
        })),
      );
    } catch (error) {
      if (!isSessionError(error, 'INVALID_ARGUMENT')) throw error;
      throw new SessionError(
        'CORRUPT_FILE',
        'runtime',
        error.message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, ''),
        { cause: error, details: { file: ref.absolute } },
      );
    }
  });
}

/**
 * Saves a feature's PM chat in the legacy shape through its PM session. Sessions never rewrite
 * history, so this appends the entries the session does not hold yet: the first N entries of
 * `chat` must be the N the session holds (same role and timestamp, compared in order), and the
 * rest are appended. An unmigrated legacy `chat.json` is migrated first.
 *
 * @deprecated Use the PM session: `runtime.addMessage(id, { role, content, timestamp, metadata: { media } })`.
 *   See docs/migration.md.
 * @param root - The directory holding `.dagent/`.
 * @param featureId - The feature.
 * @param chat - `{ entries }`, as {@link loadChat} returns it, with new entries at the end.
 * @param options - `runtime`: the host's runtime, if one is open (otherwise one is opened for writing).
 * @returns How many entries were appended.
 * @throws SessionError `INVALID_ARGUMENT` for an invalid chat, or one that drops or changes entries
 *   the session holds; `INVALID_KEY`; `ROOT_LOCKED` when another runtime holds the root and none was passed.
 * @example
 * ```ts
 * const chat = await loadChat('/repo', 'checkout')
 * chat.entries.push({ role: 'user', content: 'Ship it', timestamp: new Date().toISOString() })
 * await saveChat('/repo', 'checkout', chat) // { appended: 1 }
 * ```
 */
export async function saveChat(
  root: string,
  featureId: string,
  chat: LegacyChat,
  options: LegacyChatOptions = {},
): Promise<{ appended: number }> {
  warnDeprecated('saveChat');
  const key = keyOf(featureId);
  const id = sessionIdOf(key);
  return withRuntime(root, options.runtime, false, async (runtime) => {
    const incoming = validChat(runtime.root, featureId, chat, 'the chat to save');
    try {
      await runtime.getSession(id);
    } catch (error) {
      if (!isSessionError(error, 'SESSION_NOT_FOUND')) throw error;
      const migrated = await migratePMChat(runtime.root, featureId, { runtime });
      const file = migrated.files[0];
      if (
        file &&
        file.status !== 'migrated' &&
        file.status !== 'already-migrated' &&
        !(file.status === 'invalid' && file.reason?.startsWith('no legacy file'))
      ) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `[compat] the legacy chat of ${featureId} must be migrated first, ` +
            `and could not be: ${file.reason ?? file.status}`,
        );
      }
      await runtime.createSession(key);
    }
    const stored = toChat(await runtime.getHistory(id)).entries;
    if (incoming.length < stored.length) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `[compat] the session of ${featureId} holds ${stored.length} entries and the chat to save ` +
          `has ${incoming.length}: saveChat only appends; reload with loadChat and add to its end`,
      );
    }
    stored.forEach((entry, i) => {
      const given = incoming[i]!.input;
      if (given.role !== entry.role || given.timestamp !== entry.timestamp) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `[compat] entry ${i} of the chat to save (${given.role} at ${given.timestamp ?? '?'}) ` +
            `is not the one the session holds (${entry.role} at ${entry.timestamp}): ` +
            `saveChat only appends; reload with loadChat and add to its end`,
        );
      }
    });
    const fresh = incoming.slice(stored.length);
    for (const { input } of fresh) {
      const media = input.metadata?.media;
      await runtime.addMessage(id, {
        role: input.role,
        content: input.content,
        ...(input.timestamp ? { timestamp: input.timestamp } : {}),
        metadata: { savedBy: 'saveChat', ...(media === undefined ? {} : { media }) },
      });
    }
    return { appended: fresh.length };
  });
}
