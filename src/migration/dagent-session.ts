/**
 * @internal The flat session files of DAGent v3.0's session manager, one set per session in a
 * feature's `sessions/` directory: `session_<id>.json` (the key, status, stats, and the names of
 * the others), `chat_<id>.json` (`{ messages: [{ id, role, content, timestamp, metadata }] }`),
 * `checkpoint_<id>.json` (`{ version, summary: { completed, inProgress, pending, blockers,
 * decisions }, compactionInfo, stats }`), `context_<id>.json` and `agent-description_<id>.json`
 * (`{ agentType, roleInstructions, toolInstructions?, createdAt }`). See DAGent's
 * `src/main/services/session-manager.ts` and `src/shared/types/session.ts`.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { validateKey } from '../core/ids.js';
import type { CheckpointSummary, SessionKey } from '../core/types.js';
import { describeError } from '../core/errors.js';
import { checkKept, contentOf, mapEntries, timestampOf } from './legacy-entries.js';
import { describeValue, extraFields, isRecord, valueProblem } from './json-shape.js';
import { readLegacyFile, type LegacyFileRef, type ParseOutcome } from './legacy-file.js';

/** @internal One file of a DAGent session as read: where, its bytes' sha256, and its JSON. */
export interface SessionPart {
  name: 'session' | 'chat' | 'checkpoint' | 'context' | 'agentDescription';
  ref: LegacyFileRef;
  bytes: Buffer;
  sha256: string;
  value: unknown;
}

/** @internal A DAGent session read whole: its parts, one sha256 over all of them, and the parse. */
export type DagentSessionRead =
  { ok: true; parts: SessionPart[]; sha256: string; outcome: ParseOutcome } | { ok: false; reason: string };

const PART_PREFIX = {
  chat: 'chat_',
  checkpoint: 'checkpoint_',
  context: 'context_',
  agentDescription: 'agent-description_',
} as const;
const SECTIONS = ['completed', 'inProgress', 'pending', 'decisions', 'blockers'] as const;
const MESSAGE_FIELDS = ['id', 'role', 'content', 'timestamp', 'metadata'] as const;
// A name from session.files: a plain file name in the same directory, never a path.
const PLAIN_NAME = /^[A-Za-z0-9._-]+\.json$/;

/** The id in `session_<id>.json`. */
const idOfFile = (relative: string) =>
  path.posix.basename(relative).slice('session_'.length, -'.json'.length);

function partRef(ref: LegacyFileRef, name: string): LegacyFileRef {
  const relative = path.posix.join(path.posix.dirname(ref.relative), name);
  return { ...ref, relative, absolute: path.join(path.dirname(ref.absolute), name) };
}

/** The file names of the session's parts: those `session.files` names, else DAGent's defaults. */
function partNames(
  session: Record<string, unknown>,
  id: string,
): { names: Partial<Record<keyof typeof PART_PREFIX, string>>; problem: string | null } {
  const files = isRecord(session.files) ? session.files : {};
  const names: Partial<Record<keyof typeof PART_PREFIX, string>> = {};
  for (const [part, prefix] of Object.entries(PART_PREFIX) as [keyof typeof PART_PREFIX, string][]) {
    const given = files[part];
    const name = given === undefined ? `${prefix}${id}.json` : given;
    if (typeof name !== 'string' || !PLAIN_NAME.test(name) || name.includes('..'))
      return {
        names,
        problem:
          `"files.${part}" must be a file name beside it, ` +
          `like "${prefix}${id}.json", got ${describeValue(given)}`,
      };
    names[part] = name;
  }
  return { names, problem: null };
}

/** The summary of a DAGent checkpoint, when it has DAGent's five sections and says something. */
function summaryOf(checkpoint: unknown): { summary: CheckpointSummary | null; problem: string | null } {
  if (!isRecord(checkpoint) || !isRecord(checkpoint.summary))
    return { summary: null, problem: 'has no "summary" object; it is kept in the context as it is' };
  const s = checkpoint.summary;
  const unknown = Object.keys(s).filter((k) => !(SECTIONS as readonly string[]).includes(k));
  if (unknown.length > 0)
    return {
      summary: null,
      problem:
        `its summary has sections this library does not know ` +
        `(${unknown.join(', ')}); it is kept in the context as it is`,
    };
  const summary = {} as CheckpointSummary;
  for (const section of SECTIONS) {
    const list = s[section] ?? [];
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string'))
      return {
        summary: null,
        problem: `summary.${section} is not a list of strings; it is kept in the context as it is`,
      };
    summary[section] = [...(list as string[])];
  }
  const empty = SECTIONS.every((section) => summary[section].length === 0);
  return { summary: empty ? null : summary, problem: null };
}

/** The key the session file names, with the directory's feature (as for the other kinds). */
function keyOf(session: Record<string, unknown>, ref: LegacyFileRef): SessionKey | string {
  try {
    return validateKey({
      type: session.type,
      agentType: session.agentType,
      featureId: ref.featureId,
      ...(session.type === 'task' ? { taskId: session.taskId, taskState: session.taskState } : {}),
    });
  } catch (error) {
    return `its key cannot name a session: ${describeError(error).replace(/^\[dagent-sessions\] \[[a-z]+\] /, '')}`;
  }
}

/**
 * @internal Parses a DAGent session's parts: its messages as message inputs (DAGent's metadata
 * kept as it is, `internal` included), its context and agent description, and its checkpoint's
 * summary (to start the session's checkpoint with).
 */
export function parseDagentSession(parts: SessionPart[], ref: LegacyFileRef): ParseOutcome {
  const part = (name: SessionPart['name']) => parts.find((p) => p.name === name);
  const session = part('session')!.value;
  if (!isRecord(session))
    return {
      ok: false,
      reason:
        `${ref.relative} must hold a DAGent session object { id, type, ` +
        `agentType, featureId, files, ... }, got ${describeValue(session)}`,
    };
  const key = keyOf(session, ref);
  if (typeof key === 'string') return { ok: false, reason: `${ref.relative}: ${key}` };
  const warnings: string[] = [];
  const fileId = idOfFile(ref.relative);
  if (session.id !== undefined && session.id !== fileId)
    warnings.push(`its id ${describeValue(session.id)} differs from its file name's "${fileId}"`);
  if (session.featureId !== undefined && session.featureId !== ref.featureId)
    warnings.push(
      `featureId ${describeValue(session.featureId)} differs from its ` +
        `directory "${ref.featureId}"; the directory names the session`,
    );
  const extraProblem = valueProblem(session, ref.relative);
  if (extraProblem) return { ok: false, reason: extraProblem };

  const chat = part('chat');
  let list: unknown[] = [];
  if (!chat) warnings.push('it has no chat file: a session without messages');
  else if (!isRecord(chat.value) || !Array.isArray(chat.value.messages))
    return {
      ok: false,
      reason:
        `${chat.ref.relative} must hold { "messages": [...] }, ` +
        `got ${describeValue(isRecord(chat.value) ? chat.value.messages : chat.value)}`,
    };
  else list = chat.value.messages;
  const chatFile = chat?.ref.relative ?? '';
  const mapped = mapEntries(list, 'messages', (message, at, problems, index) => {
    if (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system')
      problems.push({
        field: `${at}.role`,
        reason: `must be "user", "assistant" or "system", got ${describeValue(message.role)}`,
      });
    const content = contentOf(message.content, at, problems);
    const timestamp = timestampOf(message.timestamp, at, problems);
    const meta = message.metadata;
    if (meta !== undefined && !isRecord(meta))
      problems.push({ field: `${at}.metadata`, reason: `must be an object, got ${describeValue(meta)}` });
    const md = isRecord(meta) ? meta : {};
    checkKept(md, `${at}.metadata`, problems);
    const legacyFields = extraFields(message, MESSAGE_FIELDS);
    if (legacyFields) checkKept(legacyFields, `${at} (extra fields)`, problems);
    if (problems.length > 0 || content === null || timestamp === null) return null;
    const { migratedFrom: dagentMigratedFrom, ...kept } = md;
    return {
      role: message.role as 'user' | 'assistant' | 'system',
      content,
      timestamp,
      metadata: {
        ...kept,
        migratedFrom: {
          file: chatFile,
          index,
          // DAGent's own migration marked what it copied from chat.json / session.json.
          ...(dagentMigratedFrom === undefined ? {} : { dagent: dagentMigratedFrom }),
        },
        ...(typeof message.id === 'string' ? { originalId: message.id } : {}),
        originalTimestamp: kept.originalTimestamp ?? message.timestamp,
        ...(legacyFields ? { legacyFields } : {}),
      },
    };
  });

  const checkpointPart = part('checkpoint');
  const { summary, problem } = checkpointPart
    ? summaryOf(checkpointPart.value)
    : { summary: null, problem: null };
  if (problem) warnings.push(`${checkpointPart!.ref.relative} ${problem}`);
  const contextPart = part('context');
  const described = part('agentDescription')?.value;
  let agentDescription: Record<string, unknown> | null = null;
  if (
    isRecord(described) &&
    typeof described.roleInstructions === 'string' &&
    described.roleInstructions !== ''
  ) {
    const { roleInstructions, toolInstructions, ...rest } = described;
    agentDescription = {
      ...rest,
      role: roleInstructions,
      ...(typeof toolInstructions === 'string' ? { instructions: toolInstructions } : {}),
    };
  } else if (described !== undefined) {
    warnings.push(
      `${part('agentDescription')!.ref.relative} has no "roleInstructions" string; ` +
        `the agent type's default description is used`,
    );
  }
  for (const [p, value] of [
    [contextPart, contextPart?.value],
    [part('agentDescription'), agentDescription],
  ] as const) {
    if (!p || value === null || value === undefined) continue;
    if (!isRecord(value)) return { ok: false, reason: `${p.ref.relative} must hold an object` };
    const kept = valueProblem(value, p.ref.relative);
    if (kept) return { ok: false, reason: kept };
  }
  const { summary: _imported, ...checkpointRest } = isRecord(checkpointPart?.value)
    ? checkpointPart.value
    : ({} as Record<string, unknown>);
  const checkpointKept =
    checkpointPart && (summary === null || problem !== null) ? checkpointPart.value : checkpointRest;
  const kept = valueProblem(checkpointKept, checkpointPart?.ref.relative ?? 'checkpoint');
  if (kept) return { ok: false, reason: kept };
  const { files: _files, ...sessionFacts } = session;
  const legacySession = {
    file: ref.relative,
    format: 'dagent-session',
    ...sessionFacts,
    ...(checkpointPart ? { checkpoint: checkpointKept } : {}),
  };
  return {
    ok: true,
    parsed: {
      total: list.length,
      ...mapped,
      context: { legacySession },
      session: {
        context: isRecord(contextPart?.value) ? contextPart.value : null,
        agentDescription,
        checkpoint: summary,
      },
      key,
      warnings,
    },
  };
}

/**
 * @internal Reads a DAGent session's files (each within the size limit, symbolic links refused)
 * and parses them. A missing part other than the session file is no error; a part that does not
 * parse makes the whole session invalid, naming the part.
 */
export async function readDagentSession(ref: LegacyFileRef, maxBytes: number): Promise<DagentSessionRead> {
  const head = await readLegacyFile(ref, maxBytes);
  if (!head.ok) return head;
  const parts: SessionPart[] = [
    { name: 'session', ref, bytes: head.bytes, sha256: head.sha256, value: head.value },
  ];
  if (isRecord(head.value)) {
    const { names, problem } = partNames(head.value, idOfFile(ref.relative));
    if (problem) return { ok: false, reason: `${ref.relative}: ${problem}` };
    for (const [name, file] of Object.entries(names) as [SessionPart['name'], string][]) {
      const partFile = partRef(ref, file);
      const read = await readLegacyFile(partFile, maxBytes);
      if (!read.ok) {
        if (read.reason.startsWith('no legacy file')) continue;
        return { ok: false, reason: `${read.reason} (a part of the DAGent session ${ref.relative})` };
      }
      parts.push({ name, ref: partFile, bytes: read.bytes, sha256: read.sha256, value: read.value });
    }
  }
  const hash = createHash('sha256');
  for (const p of parts) hash.update(`${p.name}\n${p.sha256}\n`);
  return { ok: true, parts, sha256: hash.digest('hex'), outcome: parseDagentSession(parts, ref) };
}
