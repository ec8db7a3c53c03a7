/**
 * @internal The argument lists of every channel and their checks, run before the runtime is
 * called: a refused argument never reaches the runtime, so nothing is written for it.
 */
import { SessionError, type SessionErrorCode } from '../core/errors.js';
import { assertSessionId, validateKey } from '../core/ids.js';
import { checkOptionNames } from '../core/option-names.js';
import { IDEMPOTENCY_KEY_RE, jsonProblem, validateMessageInput } from '../runtime/validate.js';
import {
  validateAgentDescription,
  validateChecks,
  validatePlainObject,
} from '../runtime/validate-arguments.js';
import { QUERY_NAMES } from '../runtime/history.js';
import { validateClearOptions } from '../runtime/checkpoint-edits.js';
import { methodOptionNames } from '../runtime/method-options.js';
import type { SessionChannel } from './channels.js';

/** @internal One parameter: its name, whether it may be left out, and its check. */
interface Param {
  name: string;
  optional?: boolean;
  /** The code of an error thrown by the check that is not a SessionError (a value it could not read). */
  code: SessionErrorCode;
  /** Throws SessionError; returns the value to hand to the runtime. */
  check(value: unknown): unknown;
}

const MAX_MESSAGE = 1_000;

/** @internal A short description of a value's kind, never its (possibly huge or cyclic) contents. */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'number') return Number.isFinite(value) ? `the number ${value}` : String(value);
  if (typeof value === 'string')
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function invalid(code: SessionErrorCode, message: string): never {
  throw new SessionError(code, 'runtime', message);
}

const id: Param = {
  name: 'id',
  code: 'INVALID_KEY',
  check(value) {
    if (typeof value !== 'string')
      invalid('INVALID_KEY', `must be a session id string like "feature--f1--pm", got ${kindOf(value)}`);
    assertSessionId(value);
    return value;
  },
};

const KEY_FIELDS = ['type', 'agentType', 'featureId', 'taskId', 'taskState'] as const;
const key: Param = {
  name: 'key',
  code: 'INVALID_KEY',
  check(value) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // Checked here so that the key's own messages never have to print a huge or cyclic value.
      for (const field of KEY_FIELDS) {
        const v = (value as Record<string, unknown>)[field];
        if (v !== undefined && (typeof v !== 'string' || v.length > 200))
          invalid('INVALID_KEY', `${field} must be a short string, got ${kindOf(v)}`);
      }
    }
    return validateKey(value);
  },
};

/**
 * An options object of plain JSON, checked by the rule of every options object of the public API
 * (`src/core/option-names.ts`): a name that is none of `known` is refused, and a name whose value is
 * `undefined` is let be. Such names are left out of what is returned, as JSON would leave them out
 * over HTTP: a host's `{ limit, cursor: undefined }` gets the same answer in process, over Electron
 * IPC (which keeps `undefined`) and over HTTP.
 */
function options(value: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(
      'INVALID_ARGUMENT',
      `must be an object with some of ${known.join(', ')} (or left out), got ${kindOf(value)}`,
    );
  }
  // A class instance (a Date, a Map) is left as it is, for jsonProblem to refuse.
  const proto = Object.getPrototypeOf(value) as unknown;
  const given =
    proto === Object.prototype || proto === null
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
      : value;
  const problem = jsonProblem(given, 'options');
  if (problem) invalid('INVALID_ARGUMENT', problem);
  checkOptionNames(given, known, (what) => new SessionError('INVALID_ARGUMENT', 'runtime', what));
  return given as Record<string, unknown>;
}

function agentDescription(value: unknown): unknown {
  return validateAgentDescription(value);
}

const createOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    // The initial checkpoint is checked by createSession itself, before anything is written.
    const o = options(value, ['context', 'agentDescription', 'checkpoint']);
    if (o.context !== undefined) validatePlainObject(o.context, 'context');
    if (o.agentDescription !== undefined) agentDescription(o.agentDescription);
    return o;
  },
};

const message: Param = {
  name: 'message',
  code: 'INVALID_MESSAGE',
  check(value) {
    const role = (value as { role?: unknown } | null)?.role;
    if (typeof value === 'object' && value !== null && typeof role !== 'string') {
      invalid('INVALID_MESSAGE', `role must be "user", "assistant" or "system", got ${kindOf(role)}`);
    }
    // The size limit is the runtime's own (maxMessageBytes): it checks it again.
    return validateMessageInput(value, { maxBytes: Infinity });
  },
};

function userMessage(optional: boolean): Param {
  return {
    name: 'userMessage',
    optional,
    code: 'INVALID_MESSAGE',
    check(value) {
      if (typeof value !== 'string' && !Array.isArray(value)) {
        invalid('INVALID_MESSAGE', `must be a string or a list of content blocks, got ${kindOf(value)}`);
      }
      return validateMessageInput({ role: 'user', content: value }, { maxBytes: Infinity }).content;
    },
  };
}

/** `cache`: whether the request carries prompt-caching breakpoints (default true). */
function checkCache(cache: unknown): void {
  if (cache !== undefined && typeof cache !== 'boolean')
    invalid('INVALID_ARGUMENT', `cache must be true or false, got ${kindOf(cache)}`);
}

const requestOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['format', 'cache']);
    if (o.format !== undefined && o.format !== 'flattened' && o.format !== 'messages') {
      invalid('INVALID_ARGUMENT', `format must be "flattened" or "messages", got ${kindOf(o.format)}`);
    }
    checkCache(o.cache);
    return o;
  },
};

const compactOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['keepRecentTokens']);
    const keep = o.keepRecentTokens;
    if (keep !== undefined && !(Number.isSafeInteger(keep) && (keep as number) >= 0)) {
      invalid('INVALID_ARGUMENT', `keepRecentTokens must be an integer >= 0, got ${kindOf(keep)}`);
    }
    return o;
  },
};

// The iteration and the decisions are checked by the runtime's own check, as in process.
const clearOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check: (value) => validateClearOptions(options(value, methodOptionNames('clearMessages'))),
};

const historyQuery: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, QUERY_NAMES);
    for (const field of ['after', 'before'])
      if (o[field] !== undefined && !Number.isSafeInteger(o[field]))
        invalid('INVALID_ARGUMENT', `${field} must be an integer seq, got ${kindOf(o[field])}`);
    if (o.limit !== undefined && !(Number.isSafeInteger(o.limit) && (o.limit as number) >= 1))
      invalid('INVALID_ARGUMENT', `limit must be an integer >= 1, got ${kindOf(o.limit)}`);
    if (o.order !== undefined && o.order !== 'asc' && o.order !== 'desc')
      invalid('INVALID_ARGUMENT', `order must be "asc" or "desc", got ${kindOf(o.order)}`);
    return o;
  },
};

const checkpointOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['version']);
    if (o.version !== undefined && !(Number.isSafeInteger(o.version) && (o.version as number) >= 0))
      invalid('INVALID_ARGUMENT', `version must be an integer >= 0, got ${kindOf(o.version)}`);
    return o;
  },
};

const context: Param = {
  name: 'context',
  code: 'INVALID_ARGUMENT',
  check: (value) => validatePlainObject(value, 'context'),
};
const description: Param = { name: 'description', code: 'INVALID_ARGUMENT', check: agentDescription };

const checks: Param = { name: 'checks', code: 'INVALID_ARGUMENT', check: (value) => validateChecks(value) };

const sendOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['model', 'maxTokens', 'cache', 'idempotencyKey']);
    if (o.model !== undefined && (typeof o.model !== 'string' || o.model === '' || o.model.length > 200))
      invalid('INVALID_ARGUMENT', `model must be a model name, got ${kindOf(o.model)}`);
    if (o.maxTokens !== undefined && !(Number.isSafeInteger(o.maxTokens) && (o.maxTokens as number) >= 1))
      invalid('INVALID_ARGUMENT', `maxTokens must be an integer >= 1, got ${kindOf(o.maxTokens)}`);
    checkCache(o.cache);
    if (
      o.idempotencyKey !== undefined &&
      (typeof o.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_RE.test(o.idempotencyKey))
    )
      invalid(
        'INVALID_ARGUMENT',
        `idempotencyKey must be 1 to 128 letters, digits, ".", "_", ":" or "-", got ${kindOf(o.idempotencyKey)}`,
      );
    return o;
  },
};

const limit: Param = {
  name: 'limit',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    if (!(Number.isSafeInteger(value) && (value as number) >= 1))
      invalid('INVALID_ARGUMENT', `must be an integer >= 1 (how many messages), got ${kindOf(value)}`);
    return value;
  },
};

// The edit and the decision are checked by the runtime itself, before anything is written; here
// only that they are plain JSON objects.
const edit: Param = {
  name: 'edit',
  code: 'INVALID_ARGUMENT',
  check: (value) => validatePlainObject(value, 'edit'),
};
const decision: Param = {
  name: 'decision',
  code: 'INVALID_ARGUMENT',
  check: (value) => validatePlainObject(value, 'decision'),
};

const recentOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['includeInternal']);
    if (o.includeInternal !== undefined && typeof o.includeInternal !== 'boolean')
      invalid('INVALID_ARGUMENT', `includeInternal must be true or false, got ${kindOf(o.includeInternal)}`);
    return o;
  },
};

const migrateOptions: Param = {
  name: 'options',
  optional: true,
  code: 'INVALID_ARGUMENT',
  check(value) {
    const o = options(value, ['dryRun', 'skipInvalid', 'checkpoint']);
    for (const field of ['dryRun', 'skipInvalid', 'checkpoint'])
      if (o[field] !== undefined && typeof o[field] !== 'boolean')
        invalid('INVALID_ARGUMENT', `${field} must be true or false, got ${kindOf(o[field])}`);
    return o;
  },
};

/** @internal The parameters of every channel, in order. */
export const PARAMS: Readonly<Record<SessionChannel, readonly Param[]>> = {
  'session:create': [key, createOptions],
  'session:get': [id],
  'session:reopen': [id],
  'session:list': [],
  'session:addMessage': [id, message],
  'session:getMessages': [id],
  'session:getHistory': [id, historyQuery],
  'session:getCheckpoint': [id, checkpointOptions],
  'session:getCheckpointVersions': [id],
  'session:estimateSize': [id],
  'session:buildRequest': [id, userMessage(false), requestOptions],
  'session:previewRequest': [id, userMessage(true), requestOptions],
  'session:compact': [id, compactOptions],
  'session:cancelCompaction': [id],
  'session:clearMessages': [id, clearOptions],
  'session:reset': [id],
  'session:export': [id],
  'session:archive': [id],
  'session:setContext': [id, context],
  'session:setAgentDescription': [id, description],
  'session:getContext': [id],
  'session:getAgentDescription': [id],
  'session:recordChecks': [id, checks],
  'session:editCheckpoint': [id, edit],
  'session:recordDecision': [id, decision],
  'session:send': [id, userMessage(false), sendOptions],
  'session:getRecentMessages': [id, limit, recentOptions],
  'session:getMetrics': [id],
  'session:getRuntimeMetrics': [],
  'session:migrate': [migrateOptions],
};

/** @internal How a channel is called, for messages: `session:buildRequest(id, userMessage, options?)`. */
export function signatureOf(channel: SessionChannel): string {
  return `${channel}(${PARAMS[channel].map((p) => (p.optional ? `${p.name}?` : p.name)).join(', ')})`;
}

/** @internal Removes the `[dagent-sessions] [origin] ` prefix of a message. */
export function withoutPrefix(message: string): string {
  return message.replace(/^\[dagent-sessions\] \[[a-z]+\] /, '');
}

/** @internal Cuts a message that quotes a huge value. */
export function capMessage(message: string): string {
  return message.length <= MAX_MESSAGE
    ? message
    : `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)`;
}

/**
 * @internal Checks the arguments of a call: their number, then each one. An optional argument
 * given as `undefined` or `null` (JSON has no undefined) is left out.
 * @throws SessionError naming the channel, the argument and what to pass instead.
 */
export function checkArguments(channel: SessionChannel, args: readonly unknown[]): unknown[] {
  const params = PARAMS[channel];
  const required = params.filter((p) => !p.optional).length;
  if (args.length < required || args.length > params.length) {
    const count = required === params.length ? `${required}` : `${required} to ${params.length}`;
    invalid(
      'INVALID_ARGUMENT',
      `${channel} takes ${count} argument${params.length === 1 ? '' : 's'}, ` +
        `got ${args.length}; call it as ${signatureOf(channel)}`,
    );
  }
  return params.map((param, i) => {
    const value = args[i];
    if (param.optional && (value === undefined || value === null)) return undefined;
    try {
      return param.check(value);
    } catch (error) {
      const code = error instanceof SessionError ? error.code : param.code;
      const reason =
        error instanceof SessionError
          ? withoutPrefix(error.message)
          : `could not be read (${error instanceof Error ? error.message : kindOf(error)})`;
      throw new SessionError(
        code,
        'runtime',
        capMessage(`${channel}: argument ${i + 1} (${param.name}): ${reason}`),
        { cause: error },
      );
    }
  });
}
