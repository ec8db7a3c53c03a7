/**
 * Session ids derived from keys, and the checks that keep them safe as path segments.
 */
import { SessionError } from './errors.js';
import type { AgentType, SessionKey, TaskState } from './types.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype', '.', '..']);
// Letters, digits, dot, dash, underscore: safe on every filesystem, no separators, no spaces.
const SAFE_PART = /^[A-Za-z0-9._-]+$/;
const MAX_PART = 200;
/** The fields only a task key has. */
const TASK_FIELDS = ['taskId', 'taskState'] as const;

/**
 * Throws `INVALID_KEY` unless `value` is usable as one part of a session id (and so of a path):
 * non-empty, at most 200 characters of `[A-Za-z0-9._-]`, no `..`, no `--` (which separates the
 * parts of an id) and no `-` at either end, not `__proto__`, `constructor` or `prototype`.
 */
export function assertSafeSegment(value: unknown, what: string): asserts value is string {
  assertPathSegment(value, what);
  // "--" separates the parts of a session id; inside a part it would let two keys share an id.
  if (value.includes('--')) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `${what} "${value}" must not contain "--" (it separates the parts of a session id)`,
    );
  }
  // A dash at either end runs into the separator: featureId "a-" with taskId "b" and featureId
  // "a" with taskId "-b" would both give "a---b".
  if (value.startsWith('-') || value.endsWith('-')) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `${what} "${value}" must not start or end with "-" (next to the ` +
        `"--" between the parts of a session id, two keys could share an id)`,
    );
  }
}

function assertPathSegment(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `${what} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  if (FORBIDDEN.has(value)) {
    throw new SessionError('INVALID_KEY', 'ids', `${what} "${value}" is a reserved name; choose another id`);
  }
  if (value.length > MAX_PART) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `${what} is ${value.length} characters long; at most ${MAX_PART} are allowed`,
    );
  }
  if (!SAFE_PART.test(value)) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `${what} "${value}" may only contain letters, digits, ".", "-" and "_" (no path separators, spaces or "..")`,
    );
  }
  if (value.includes('..')) {
    throw new SessionError('INVALID_KEY', 'ids', `${what} "${value}" must not contain ".."`);
  }
}

/**
 * Validates a session key and returns a normalised copy (only the known fields). Every part
 * becomes a part of the session id and so of a path: `agentType`, `featureId`, `taskId` and
 * `taskState` must each be a safe id part (see {@link assertSafeSegment}). Which agent types and
 * task states exist is the runtime's business (DAGent's five and five, and those a host
 * registers): `createSession` refuses a type or state its runtime does not know.
 *
 * Fields of no key are dropped, so that an object carrying a key among its own fields (a session's
 * info, a host's record) can be given as it is. A field of the other kind of key is refused: a
 * `taskId` or `taskState` on a feature key says the caller meant a task session, and dropping it
 * would open the feature's session instead. One set to `undefined` is let be.
 *
 * @param key - `{ type: 'feature', agentType, featureId }` or `{ type: 'task', agentType, featureId,
 * taskId, taskState }`.
 * @returns The key with only those fields.
 * @throws SessionError `INVALID_KEY` naming the field that is wrong.
 * @example validateKey({ type: 'feature', agentType: 'researcher', featureId: 'f1', extra: 1 }) // without extra
 * @example validateKey({ type: 'feature', agentType: 'dev', featureId: 'f1', taskId: 't1' }) // throws INVALID_KEY
 */
export function validateKey(key: unknown): SessionKey {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      'a session key must be an object like { type: "feature", agentType: "pm", featureId: "f1" }',
    );
  }
  const k = key as Record<string, unknown>;
  if (k.type !== 'feature' && k.type !== 'task') {
    throw new SessionError(
      'INVALID_KEY',
      'ids',
      `type must be "feature" or "task", got ${JSON.stringify(k.type)}`,
    );
  }
  assertSafeSegment(k.agentType, 'agentType');
  assertSafeSegment(k.featureId, 'featureId');
  const agentType: AgentType = k.agentType;
  if (k.type === 'feature') {
    const field = TASK_FIELDS.find((name) => k[name] !== undefined);
    if (field !== undefined) {
      throw new SessionError(
        'INVALID_KEY',
        'ids',
        `${field} belongs to a task key, not to a feature key (type "feature"): for a task session ` +
          `give type "task" with taskId and taskState; for the feature's session leave ${field} out`,
      );
    }
    return { type: 'feature', agentType, featureId: k.featureId };
  }
  assertSafeSegment(k.taskId, 'taskId');
  assertSafeSegment(k.taskState, 'taskState');
  const taskState: TaskState = k.taskState;
  return { type: 'task', agentType, featureId: k.featureId, taskId: k.taskId, taskState };
}

/**
 * The session id of a key: `feature--<featureId>--<agentType>` or
 * `task--<featureId>--<taskId>--<taskState>--<agentType>`. Deterministic, so that creating a
 * session twice with the same key finds the same session.
 * @throws SessionError `INVALID_KEY`
 * @example sessionIdOf({ type: 'feature', agentType: 'pm', featureId: 'f1' }) // 'feature--f1--pm'
 */
export function sessionIdOf(key: SessionKey): string {
  const k = validateKey(key);
  return k.type === 'feature'
    ? `feature--${k.featureId}--${k.agentType}`
    : `task--${k.featureId}--${k.taskId}--${k.taskState}--${k.agentType}`;
}

/**
 * Checks a session id given by a caller before it is used as a path segment.
 * @throws SessionError `INVALID_KEY`
 */
export function assertSessionId(id: unknown): asserts id is string {
  assertPathSegment(id, 'session id');
}

/**
 * The key a session id was derived from, or null when `id` is not of the form
 * {@link sessionIdOf} produces. Ids are derived from keys, so this is their exact inverse.
 * @example keyOfSessionId('feature--f1--pm') // { type: 'feature', agentType: 'pm', featureId: 'f1' }
 */
export function keyOfSessionId(id: string): SessionKey | null {
  const parts = id.split('--');
  try {
    if (parts[0] === 'feature' && parts.length === 3) {
      return validateKey({ type: 'feature', featureId: parts[1], agentType: parts[2] });
    }
    if (parts[0] === 'task' && parts.length === 5) {
      return validateKey({
        type: 'task',
        featureId: parts[1],
        taskId: parts[2],
        taskState: parts[3],
        agentType: parts[4],
      });
    }
  } catch {
    return null;
  }
  return null;
}
