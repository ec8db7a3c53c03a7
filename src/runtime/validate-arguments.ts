/**
 * Checks the plain arguments callers hand to the runtime (a context, an agent description,
 * verification checks), with errors that say what was wrong and what to do; messages are
 * validate.ts's.
 */
import { SessionError } from '../core/errors.js';
import type { AgentDescription, CheckResult } from '../core/types.js';
import { DEFAULT_MAX_MESSAGE_BYTES, JsonProblem, byteBudget, copyJson } from './validate.js';

/**
 * Validates a plain JSON object argument (context, agent description) and returns a deep copy
 * of it: the runtime never keeps the caller's object. Its text is held to the size rule of
 * messages (`maxMessageBytes`, UTF-8 bytes of every string and key), checked while it is copied,
 * so that a huge value is refused before anything counts its tokens.
 * @param maxBytes - the runtime's `maxMessageBytes` (default 16 MiB; `Infinity` for none).
 * @throws SessionError `INVALID_ARGUMENT` naming the problem; for a value over `maxBytes`, with
 *   `details: { reason: 'too-many-bytes', maxBytes, countedBytes }`.
 * @example validatePlainObject({ featureName: 'Export' }, 'context') // a copy
 */
export function validatePlainObject(
  value: unknown,
  what: string,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `${what} must be a plain object`);
  }
  const budget = byteBudget(maxBytes, (bytes) => {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `${what} passes ${maxBytes} bytes of text (counted ${bytes} before stopping), the size limit of ` +
        `what a session holds (maxMessageBytes); keep large data (logs, files, dumps) outside the ` +
        `session and refer to it, or raise maxMessageBytes`,
      { details: { reason: 'too-many-bytes', maxBytes, countedBytes: bytes } },
    );
  });
  try {
    return copyJson(value, what, { freeze: false, budget }) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof JsonProblem) throw new SessionError('INVALID_ARGUMENT', 'runtime', error.message);
    throw error;
  }
}

/**
 * Validates an agent description (a plain JSON object with a non-empty `role`; other fields are
 * the host's) and returns a deep copy of it. One rule for `createSession`, `setAgentDescription`
 * and their IPC channels: `createSession` took a description without a role, and its requests
 * then had no role section. The agent profiles of `createSessionRuntime({ agents })` and the
 * session on Restate check theirs with it too.
 * @param what - How messages name the description (`researcher.description` for a profile's).
 * @param maxBytes - the runtime's `maxMessageBytes` (see {@link validatePlainObject}).
 * @throws SessionError `INVALID_ARGUMENT`
 * @example validateAgentDescription({ role: 'Developer agent', tools: ['Bash'] })
 */
export function validateAgentDescription(
  value: unknown,
  what = 'agentDescription',
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): AgentDescription {
  const valid = validatePlainObject(value, what, maxBytes);
  if (typeof valid.role !== 'string' || valid.role === '') {
    const got = valid.role === undefined ? 'none' : JSON.stringify(valid.role);
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `${what} needs a non-empty "role" string, got ${got}`,
    );
  }
  return valid as AgentDescription;
}

/**
 * Validates verification checks: a list of `{ checkId: string, passed: boolean, error?: string, at?: string }`.
 * @throws SessionError `INVALID_ARGUMENT` naming the check and the field.
 */
export function validateChecks(value: unknown): CheckResult[] {
  if (!Array.isArray(value))
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'checks must be a list of { checkId, passed, error? }',
    );
  return value.map((check, i) => {
    if (typeof check !== 'object' || check === null || Array.isArray(check)) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `checks[${i}] must be an object like { checkId: "tests", passed: true }`,
      );
    }
    const c = check as Record<string, unknown>;
    if (typeof c.checkId !== 'string' || c.checkId === '')
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `checks[${i}].checkId must be a non-empty string`,
      );
    if (typeof c.passed !== 'boolean')
      throw new SessionError('INVALID_ARGUMENT', 'runtime', `checks[${i}].passed must be true or false`);
    if (c.error !== undefined && typeof c.error !== 'string')
      throw new SessionError('INVALID_ARGUMENT', 'runtime', `checks[${i}].error must be a string`);
    if (c.at !== undefined && (typeof c.at !== 'string' || Number.isNaN(Date.parse(c.at)))) {
      throw new SessionError('INVALID_ARGUMENT', 'runtime', `checks[${i}].at must be an ISO-8601 string`);
    }
    return {
      checkId: c.checkId,
      passed: c.passed,
      ...(c.error === undefined ? {} : { error: c.error }),
      ...(c.at === undefined ? {} : { at: c.at as string }),
    };
  });
}
