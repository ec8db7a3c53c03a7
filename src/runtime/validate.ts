/**
 * Checks what callers hand to the runtime, with errors that say what was wrong and what to do.
 */
import { SessionError } from '../core/errors.js';
import type { CheckResult, ContentBlock, MessageInput, Role } from '../core/types.js';

const ROLES: readonly Role[] = ['user', 'assistant', 'system'];
const MAX_DEPTH = 64;

function fail(message: string): never {
  throw new SessionError('INVALID_MESSAGE', 'runtime', message);
}

/** Whether `value` is a plain JSON-compatible value (no functions, cycles, class instances, NaN). */
export function jsonProblem(
  value: unknown,
  path = 'value',
  depth = 0,
  seen = new Set<object>(),
): string | null {
  if (depth > MAX_DEPTH) return `${path} is nested more than ${MAX_DEPTH} levels deep`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number')
    return Number.isFinite(value) ? null : `${path} is ${String(value)}, which JSON cannot hold`;
  if (typeof value !== 'object') return `${path} is a ${typeof value}, which JSON cannot hold`;
  if (seen.has(value)) return `${path} refers back to itself (a cycle)`;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    return `${path} is a class instance; pass plain objects`;
  seen.add(value);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, child] of entries) {
    if (key === '__proto__') return `${path} has a "__proto__" key`;
    const problem = jsonProblem(
      child,
      Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
      depth + 1,
      seen,
    );
    if (problem) return problem;
  }
  seen.delete(value);
  return null;
}

function checkBlock(block: unknown, i: number): ContentBlock {
  const where = `content[${i}]`;
  if (typeof block !== 'object' || block === null)
    fail(`${where} must be a block object like { type: "text", text: "..." }`);
  const b = block as Record<string, unknown>;
  switch (b.type) {
    case 'text':
      if (typeof b.text !== 'string') fail(`${where} is a text block without a string "text"`);
      break;
    case 'tool_use':
      if (typeof b.id !== 'string' || b.id === '') fail(`${where} is a tool_use block without a string "id"`);
      if (typeof b.name !== 'string' || b.name === '')
        fail(`${where} is a tool_use block without a string "name"`);
      break;
    case 'tool_result':
      if (typeof b.tool_use_id !== 'string' || b.tool_use_id === '')
        fail(`${where} is a tool_result block without a string "tool_use_id"`);
      if (!(typeof b.content === 'string' || Array.isArray(b.content) || b.content === undefined)) {
        fail(`${where} is a tool_result block whose "content" is neither a string nor a list of text blocks`);
      }
      if (b.is_error !== undefined && typeof b.is_error !== 'boolean')
        fail(`${where}.is_error must be a boolean`);
      break;
    case 'thinking':
      if (typeof b.thinking !== 'string') fail(`${where} is a thinking block without a string "thinking"`);
      break;
    default:
      fail(
        `${where} has type ${JSON.stringify(b.type)}; expected "text", "tool_use", "tool_result" or "thinking"`,
      );
  }
  return block as ContentBlock;
}

/**
 * Validates a message given to `addMessage`.
 * @throws SessionError `INVALID_MESSAGE` naming the field that is wrong.
 */
export function validateMessageInput(input: unknown): MessageInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('a message must be an object like { role: "user", content: "text" }');
  }
  const m = input as Record<string, unknown>;
  if (!ROLES.includes(m.role as Role))
    fail(`role must be "user", "assistant" or "system", got ${JSON.stringify(m.role)}`);
  if (typeof m.content === 'string') {
    // fine
  } else if (Array.isArray(m.content)) {
    if (m.content.length === 0) fail('content is an empty list; send a string or at least one block');
    m.content.forEach(checkBlock);
  } else {
    fail(
      `content must be a string or a list of blocks, got ${m.content === null ? 'null' : typeof m.content}`,
    );
  }
  const problem = jsonProblem(m.content, 'content');
  if (problem) fail(problem);
  if (m.metadata !== undefined) {
    if (typeof m.metadata !== 'object' || m.metadata === null || Array.isArray(m.metadata))
      fail('metadata must be a plain object');
    const metaProblem = jsonProblem(m.metadata, 'metadata');
    if (metaProblem) fail(metaProblem);
  }
  if (
    m.timestamp !== undefined &&
    (typeof m.timestamp !== 'string' || Number.isNaN(Date.parse(m.timestamp)))
  ) {
    fail(`timestamp must be an ISO-8601 string, got ${JSON.stringify(m.timestamp)}`);
  }
  return {
    role: m.role as Role,
    content: m.content as MessageInput['content'],
    ...(m.metadata === undefined ? {} : { metadata: m.metadata as Record<string, unknown> }),
    ...(m.timestamp === undefined ? {} : { timestamp: m.timestamp as string }),
  };
}

/**
 * Validates a plain JSON object argument (context, agent description).
 * @throws SessionError `INVALID_ARGUMENT`
 */
export function validatePlainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SessionError('INVALID_ARGUMENT', 'runtime', `${what} must be a plain object`);
  }
  const problem = jsonProblem(value, what);
  if (problem) throw new SessionError('INVALID_ARGUMENT', 'runtime', problem);
  return value as Record<string, unknown>;
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
