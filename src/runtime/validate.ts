/**
 * Checks what callers hand to the runtime, with errors that say what was wrong and what to do.
 */
import { distance } from 'fastest-levenshtein';
import { SessionError } from '../core/errors.js';
import type { MessageInput, Role } from '../core/types.js';

const ROLES: readonly Role[] = ['user', 'assistant', 'system'];

// The optional names of a message: a name a slip away from one of these would be dropped without
// a word. Other names are let be (a stored message's id, seq and tokens, an SDK reply's type, model
// and usage); a slip in `role` or `content` is refused anyway, as they are required.
const OPTIONAL_FIELDS = [
  'metadata',
  'timestamp',
  'idempotencyKey',
] as const satisfies readonly (keyof MessageInput)[];

/**
 * @internal The optional field of a message that `name` is a slip away from, or null: the same
 * letters in another case or with `_`/`-` (`idempotency_key`), or an edit from it (`metdata`),
 * two from `idempotencyKey` (`idempotncyKey`). Such a name was ignored: a retry whose misspelt key
 * was dropped stored its message twice.
 * @example misspeltMessageField('idempotncyKey') // 'idempotencyKey'; misspeltMessageField('usage') // null
 */
export function misspeltMessageField(name: string): string | null {
  if (name === 'role' || name === 'content' || (OPTIONAL_FIELDS as readonly string[]).includes(name))
    return null;
  const plain = name.toLowerCase().replace(/[_-]/g, '');
  for (const field of OPTIONAL_FIELDS) {
    if (distance(plain, field.toLowerCase()) <= (field.length > 10 ? 2 : 1)) return field;
  }
  return null;
}
const MAX_DEPTH = 64;

/** The largest message `addMessage` accepts by default: 16 MiB, the HTTP transport's body limit. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * What an idempotency key may be: 1 to 128 letters, digits, `.`, `_`, `:` or `-` (a UUID, a ULID,
 * `task-42:turn-3`). `/` is left out: the runtime derives the key of a `send` reply as `<key>/reply`.
 */
export const IDEMPOTENCY_KEY_RE = /^[A-Za-z0-9._:-]{1,128}$/;

function fail(message: string): never {
  throw new SessionError('INVALID_MESSAGE', 'runtime', message);
}

/** @internal Thrown inside the walk; turned into the caller's error code at its edge. */
export class JsonProblem extends Error {}

/**
 * @internal How much text a walk has seen, against a limit (UTF-8 bytes of strings and keys).
 * Strings are measured only once the limit could be passed: until `bound` (3 bytes per UTF-16
 * unit, the most UTF-8 takes) passes `max`, they wait in `unmeasured`; then `bytes` is exact.
 */
export interface ByteBudget {
  bytes: number;
  bound: number;
  unmeasured: string[] | null;
  readonly max: number;
  /** Called once the limit is passed, with the bytes counted (at least that many: see `spend`); throws. */
  readonly over: (bytes: number) => never;
}

/**
 * @internal A budget of `max` UTF-8 bytes of text for {@link copyJson}: the one size rule of what
 * callers hand over (messages, and a session's context and agent description). `over` is called
 * with the bytes counted once the limit is passed, and throws.
 */
export function byteBudget(max: number, over: (bytes: number) => never): ByteBudget {
  return { bytes: 0, bound: 0, unmeasured: [], max, over };
}

/** Characters past which a string passing the limit by its length alone is not measured. */
const LONG_TEXT = 64 * 1024;

function spend(budget: ByteBudget | undefined, text: string): void {
  if (budget === undefined) return;
  if (budget.unmeasured !== null) {
    budget.bound += 3 * text.length;
    if (budget.bound <= budget.max) {
      budget.unmeasured.push(text);
      return;
    }
    // From here on every string is measured: the texts before it could not pass the limit.
    for (const earlier of budget.unmeasured) budget.bytes += Buffer.byteLength(earlier, 'utf8');
    budget.unmeasured = null;
  }
  // A long string with more UTF-16 units than bytes are left passes the limit (a unit is at least
  // a byte) and is not measured: measuring 500 MB reads (and first flattens) all of it, for seconds.
  if (text.length > LONG_TEXT && budget.bytes + text.length > budget.max)
    budget.over(budget.bytes + text.length);
  budget.bytes += Buffer.byteLength(text, 'utf8');
  if (budget.bytes > budget.max) budget.over(budget.bytes);
}

/** The problem at where `walk` is. */
function problemAt(walk: Walk, what: string): JsonProblem {
  return new JsonProblem(`${pathOf(walk.start, walk.trail)} ${what}`);
}

/** A walk's way to where it is: keys (`.key`) and indexes (`[i]`) below its start. */
type Trail = (string | number)[];

/** The path of a problem, built only when there is one. */
function pathOf(start: string, trail: Trail): string {
  let path = start;
  for (const step of trail) path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  return path;
}

/**
 * @internal Copies a plain JSON value while checking it, in one walk: no functions, cycles, class
 * instances, NaN or `__proto__` keys; nested at most {@link MAX_DEPTH} levels. The copy shares
 * nothing with `value` (what the caller does with its object afterwards changes nothing here);
 * with `freeze`, every object and array of the copy is frozen.
 * @throws JsonProblem naming the path of the first problem; whatever `budget.over` throws.
 */
export function copyJson(
  value: unknown,
  path: string,
  options: { freeze: boolean; budget?: ByteBudget },
): unknown {
  return copyAt(value, { start: path, trail: [], inside: [], ...options });
}

/** What a walk carries: where it started, the way down (its depth), the objects it is inside. */
interface Walk {
  readonly start: string;
  readonly trail: Trail;
  /** The objects and arrays the walk is inside (a few: a short list beats a Set's hashing). */
  readonly inside: object[];
  readonly freeze: boolean;
  readonly budget?: ByteBudget;
}

function copyAt(value: unknown, walk: Walk): unknown {
  if (walk.trail.length > MAX_DEPTH) throw problemAt(walk, `is nested more than ${MAX_DEPTH} levels deep`);
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    spend(walk.budget, value);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw problemAt(walk, `is ${String(value)}, which JSON cannot hold`);
    return value === 0 ? 0 : value; // -0 is 0 once written: a retry compares equal
  }
  if (typeof value !== 'object') throw problemAt(walk, `is a ${typeof value}, which JSON cannot hold`);
  if (walk.inside.includes(value)) throw problemAt(walk, 'refers back to itself (a cycle)');
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    throw problemAt(walk, 'is a class instance; pass plain objects');
  walk.inside.push(value);
  const { trail } = walk;
  let copy: unknown[] | Record<string, unknown>;
  if (Array.isArray(value)) {
    // Read once: a getter or proxy cannot show the check one value and the copy another.
    copy = Array.from(value as unknown[]);
    for (let i = 0; i < copy.length; i++) {
      trail.push(i);
      copy[i] = copyAt(copy[i], walk);
      trail.pop();
    }
  } else {
    copy = {};
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (key === '__proto__') throw problemAt(walk, 'has a "__proto__" key');
      spend(walk.budget, key);
      trail.push(key);
      copy[key] = copyAt(object[key], walk);
      trail.pop();
    }
  }
  walk.inside.pop();
  return walk.freeze ? Object.freeze(copy) : copy;
}

/** Whether `value` is a plain JSON-compatible value (no functions, cycles, class instances, NaN). */
export function jsonProblem(value: unknown, path = 'value'): string | null {
  try {
    copyJson(value, path, { freeze: false });
    return null;
  } catch (error) {
    if (error instanceof JsonProblem) return error.message;
    throw error;
  }
}

/**
 * @internal Deep-freezes a JSON value in place (objects and arrays), skipping what is frozen
 * already, and returns it. Used on what compactors receive: a compactor that edits its input
 * cannot change history.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}

/** Fails unless `b[field]` is a string (a non-empty one unless `what` says it may be empty). */
function needString(b: Record<string, unknown>, field: string, where: string, what = 'a string'): void {
  const value = b[field];
  if (typeof value !== 'string' || (what === 'a string' && value === ''))
    fail(`${where} is a ${String(b.type)} block without ${what} "${field}"`);
}

/**
 * Checks one content block where the Messages API would refuse it: the fields of the blocks it
 * defines (text, tool_use, tool_result, thinking, redacted_thinking, image, document,
 * search_result, server tool calls), and a string `type` on any other (a type the API adds later
 * is kept verbatim).
 */
function checkBlock(block: unknown, where: string): void {
  if (typeof block !== 'object' || block === null || Array.isArray(block))
    fail(`${where} must be a block object like { type: "text", text: "..." }`);
  const b = block as Record<string, unknown>;
  switch (b.type) {
    case 'text':
      needString(b, 'text', where, 'a string (possibly empty)');
      break;
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      needString(b, 'id', where);
      needString(b, 'name', where);
      break;
    case 'tool_result':
    case 'mcp_tool_result':
      needString(b, 'tool_use_id', where);
      if (Array.isArray(b.content))
        b.content.forEach((part, j) => checkBlock(part, `${where}.content[${j}]`));
      else if (!(typeof b.content === 'string' || b.content === undefined))
        fail(`${where} is a ${b.type} block whose "content" is neither a string nor a list of blocks`);
      if (b.is_error !== undefined && typeof b.is_error !== 'boolean')
        fail(`${where}.is_error must be a boolean`);
      break;
    case 'thinking':
      needString(b, 'thinking', where, 'a string (possibly empty)');
      if (b.signature !== undefined && typeof b.signature !== 'string')
        fail(`${where}.signature must be a string`);
      break;
    case 'redacted_thinking':
      needString(b, 'data', where);
      break;
    case 'image':
    case 'document':
      checkSource(b.source, b.type, `${where}.source`);
      break;
    case 'search_result':
      needString(b, 'source', where);
      needString(b, 'title', where, 'a string (possibly empty)');
      if (!Array.isArray(b.content)) fail(`${where} is a search_result block without a list "content"`);
      b.content.forEach((part, j) => checkBlock(part, `${where}.content[${j}]`));
      break;
    default:
      if (typeof b.type !== 'string' || b.type === '')
        fail(`${where} has no string "type"; every block names its type, like { type: "text", text: "..." }`);
  }
}

/** Checks the `source` of an image or a document: its kind, and the field that kind needs. */
function checkSource(source: unknown, block: string, where: string): void {
  if (typeof source !== 'object' || source === null || Array.isArray(source))
    fail(`${where} must be an object like { type: "base64", media_type: "image/png", data: "..." }`);
  const s = source as Record<string, unknown>;
  const field: Record<string, string> = { base64: 'data', text: 'data', url: 'url', file: 'file_id' };
  const needed = typeof s.type === 'string' ? field[s.type] : undefined;
  if (s.type === 'content') {
    if (typeof s.content === 'string') return;
    if (!Array.isArray(s.content)) fail(`${where} is a content source without "content"`);
    s.content.forEach((part, j) => checkBlock(part, `${where}.content[${j}]`));
    return;
  }
  if (typeof s.type !== 'string' || s.type === '') fail(`${where} of a ${block} block has no string "type"`);
  if (needed !== undefined && typeof s[needed] !== 'string')
    fail(`${where} is a ${String(s.type)} source of a ${block} block without a string "${needed}"`);
  if ((s.type === 'base64' || s.type === 'text') && typeof s.media_type !== 'string')
    fail(`${where} is a ${String(s.type)} source of a ${block} block without a string "media_type"`);
}

/** Options of {@link validateMessageInput}. */
export interface MessageCheckOptions {
  /**
   * Largest message accepted, in UTF-8 bytes of its text (every string of `content` and
   * `metadata`, keys included). Default {@link DEFAULT_MAX_MESSAGE_BYTES}; `Infinity` for none.
   */
  maxBytes?: number;
}

/** Copies a field of the message, translating a problem of the walk into `INVALID_MESSAGE`. */
function copyField(value: unknown, path: string, budget: ByteBudget): unknown {
  try {
    return copyJson(value, path, { freeze: true, budget });
  } catch (error) {
    if (error instanceof JsonProblem) fail(error.message);
    throw error;
  }
}

/**
 * Validates a message given to `addMessage` and returns a deep copy of it, frozen: the caller's
 * objects are read once, here, and never kept (changing them afterwards changes nothing stored).
 *
 * @throws SessionError `INVALID_MESSAGE` naming the field that is wrong; `MESSAGE_TOO_LARGE` when
 *   its text passes `options.maxBytes` (16 MiB by default).
 * @example
 * ```ts
 * const message = validateMessageInput({ role: 'user', content: 'Run the tests' });
 * Object.isFrozen(message.content); // true for block lists; strings are immutable anyway
 * ```
 */
export function validateMessageInput(input: unknown, options: MessageCheckOptions = {}): MessageInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('a message must be an object like { role: "user", content: "text" }');
  }
  const max = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const budget = byteBudget(max, (bytes) => {
    throw new SessionError(
      'MESSAGE_TOO_LARGE',
      'runtime',
      `the message passes ${max} bytes of text (counted ${bytes} before stopping); ` +
        `split it into several messages, keep large data (logs, files) ` +
        `outside the session and refer to it, or raise maxMessageBytes`,
      { details: { maxBytes: max, countedBytes: bytes } },
    );
  });
  const m = input as Record<string, unknown>;
  for (const name of Object.keys(m)) {
    const meant = misspeltMessageField(name);
    if (meant !== null && m[name] !== undefined)
      fail(`${JSON.stringify(name)} is not a field of a message; did you mean "${meant}"?`);
  }
  const role = m.role;
  const rawContent = m.content;
  const rawMetadata = m.metadata;
  const timestamp = m.timestamp;
  const idempotencyKey = m.idempotencyKey;
  if (!ROLES.includes(role as Role))
    fail(`role must be "user", "assistant" or "system", got ${JSON.stringify(role)}`);
  if (typeof rawContent !== 'string' && !Array.isArray(rawContent)) {
    fail(
      `content must be a string or a list of blocks, got ${rawContent === null ? 'null' : typeof rawContent}`,
    );
  }
  const content = copyField(rawContent, 'content', budget) as MessageInput['content'];
  if (Array.isArray(content)) {
    if (content.length === 0) fail('content is an empty list; send a string or at least one block');
    content.forEach((block, i) => checkBlock(block, `content[${i}]`));
  }
  let metadata: Record<string, unknown> | undefined;
  if (rawMetadata !== undefined) {
    if (typeof rawMetadata !== 'object' || rawMetadata === null || Array.isArray(rawMetadata))
      fail('metadata must be a plain object');
    metadata = copyField(rawMetadata, 'metadata', budget) as Record<string, unknown>;
  }
  if (timestamp !== undefined && (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))) {
    fail(`timestamp must be an ISO-8601 string, got ${JSON.stringify(timestamp)}`);
  }
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_RE.test(idempotencyKey))
  ) {
    fail(
      `idempotencyKey must be 1 to 128 letters, digits, ".", "_", ` +
        `":" or "-" (a UUID works), got ${describeValue(idempotencyKey)}`,
    );
  }
  // Built field by field (in this order), not by spreads of small objects: one of these per append.
  const message: MessageInput = { role: role as Role, content };
  if (metadata !== undefined) message.metadata = metadata;
  if (timestamp !== undefined) message.timestamp = timestamp as string;
  if (idempotencyKey !== undefined) message.idempotencyKey = idempotencyKey as string;
  return message;
}

/** A value for a message, never a huge one. */
function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value);
  return value === null ? 'null' : typeof value;
}
