/**
 * @internal What `createSessionRuntime` makes of its options before it builds anything: the
 * checks that refuse bad ones, the compaction timings each session actor gets, and the Anthropic
 * client, made (and its SDK loaded) on the first turn that needs one.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { SessionMachineInput } from '../../machines/session.machine.js';
import { hasAnthropicApiKey } from '../compaction/anthropic-compactor.js';
import { loadAnthropicSdk } from '../compaction/anthropic-sdk.js';
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { SessionStore } from '../store/contract.js';
import { isStore } from './history.js';
import type { SessionRuntimeOptions } from './types.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './validate.js';

/**
 * @internal The options checked: the host's store (if any) and the largest message accepted.
 *
 * @throws SessionError `INVALID_ARGUMENT` without a root or a store, with a name that is no option,
 *   with a bad maxMessageBytes, or
 *   with a store and an option that is the store's own (`durable`, `foldMinBytes`, `syncAppends`, a
 *   `readOnly` other than the store's), or with an `inspect`, `clock`, `now`, `estimator`,
 *   `compactor`, `calibration`, `client`, `model`, `supervisor` or `compaction` that is not what it
 *   must be.
 */
export function checkRuntimeOptions(options: SessionRuntimeOptions): {
  given: SessionStore | undefined;
  maxMessageBytes: number;
} {
  const given = typeof options === 'object' && options !== null ? options.store : undefined;
  if (
    typeof options !== 'object' ||
    options === null ||
    (given === undefined && (typeof options.root !== 'string' || options.root === '')) ||
    (given !== undefined && !isStore(given))
  ) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'createSessionRuntime needs { root: "<directory>" } or { store } (a SessionStore)',
    );
  }
  checkNames(options);
  if (given !== undefined) checkStoreOwnOptions(options, given);
  checkHostHooks(options);
  checkTimings(options);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(
    typeof maxMessageBytes === 'number' &&
    maxMessageBytes > 0 &&
    (Number.isInteger(maxMessageBytes) || maxMessageBytes === Infinity)
  )) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `maxMessageBytes must be a positive integer (or Infinity), got ${String(maxMessageBytes)}`,
    );
  }
  return { given, maxMessageBytes };
}

/** Every option `createSessionRuntime` takes (the compiler keeps this in step with the type). */
const OPTION_NAMES = optionNames({
  root: true,
  store: true,
  limits: true,
  agents: true,
  compactor: true,
  client: true,
  model: true,
  calibration: true,
  estimator: true,
  inspect: true,
  clock: true,
  now: true,
  readOnly: true,
  durable: true,
  supervisor: true,
  compaction: true,
  foldMinBytes: true,
  syncAppends: true,
  maxMessageBytes: true,
} satisfies Record<keyof SessionRuntimeOptions, true>);

/** A name that is no option is refused, not ignored (`src/core/option-names.ts`). */
function checkNames(options: SessionRuntimeOptions): void {
  checkOptionNames(
    options,
    OPTION_NAMES,
    (what) => new SessionError('INVALID_ARGUMENT', 'runtime', `createSessionRuntime: ${what}`),
  );
}

/** The refusal of an option that is not what it must be. */
function invalidOption(name: string, must: string, value: unknown): SessionError {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value)
      : value === null || !['object', 'function'].includes(typeof value)
        ? String(value)
        : `a ${typeof value}`;
  return new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `createSessionRuntime: ${name} must be ${must}, got ${shown}`,
  );
}

/**
 * The host's hooks, checked before anything is opened: XState would take a bad one at its first
 * use, some as an error thrown later on no caller's path (a clock without `setTimeout` ended the
 * process), after the root's lock was taken.
 */
function checkHostHooks(options: SessionRuntimeOptions): void {
  const { inspect, clock, now } = options;
  const isFunction = (value: unknown) => typeof value === 'function';
  if (
    inspect !== undefined &&
    inspect !== null &&
    !isFunction(inspect) &&
    !(typeof inspect === 'object' && (inspect.next === undefined || isFunction(inspect.next)))
  )
    throw invalidOption('inspect', 'a function or an observer with next (XState inspection)', inspect);
  if (
    clock !== undefined &&
    !(
      typeof clock === 'object' &&
      clock !== null &&
      isFunction(clock.setTimeout) &&
      isFunction(clock.clearTimeout)
    )
  )
    throw invalidOption(
      'clock',
      'an object with setTimeout and clearTimeout (such as XState SimulatedClock)',
      clock,
    );
  if (now !== undefined && !isFunction(now)) throw invalidOption('now', 'a function returning a Date', now);
  checkMethods(
    options,
    'estimator',
    ['estimate', 'estimateContent', 'estimateMessage', 'estimateMessages', 'estimateCheckpoint'],
    'a TokenEstimator, such as createTokenEstimator()',
  );
  checkMethods(options, 'compactor', ['compact'], 'a Compactor, such as new OfflineCompactor()');
  checkCompactorFields(options.compactor);
  checkMethods(options, 'calibration', ['factor', 'observe'], 'a TokenCalibration');
  checkMethods(options, 'client', [], 'an Anthropic client, such as new Anthropic()');
  if (options.model !== undefined && (typeof options.model !== 'string' || options.model === ''))
    throw invalidOption('model', 'a model name', options.model);
}

/**
 * A compactor's `name` is recorded in every checkpoint it writes and its `maxInputTokens` sizes the
 * chunks it is given: without a name every compaction failed (`COMPACTOR_MALFORMED`, its checkpoint
 * refused) and the session retried for ever; without `maxInputTokens` its input was never chunked.
 */
function checkCompactorFields(compactor: SessionRuntimeOptions['compactor']): void {
  if (compactor === undefined) return;
  const what = 'a Compactor, such as new OfflineCompactor()';
  if (typeof compactor.name !== 'string' || compactor.name === '')
    throw invalidOption('compactor', `${what} (its name is not a non-empty string)`, compactor);
  const max: unknown = compactor.maxInputTokens;
  if (!(typeof max === 'number' && max > 0))
    throw invalidOption('compactor', `${what} (its maxInputTokens is not a number above 0)`, compactor);
}

/** An object option, given, must have these methods (a bad one threw at its first use, the root locked). */
function checkMethods(
  options: SessionRuntimeOptions,
  name: 'estimator' | 'compactor' | 'calibration' | 'client',
  methods: readonly string[],
  what: string,
): void {
  const value: unknown = options[name];
  if (value === undefined) return;
  const missing =
    typeof value !== 'object' || value === null
      ? null
      : methods.find((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
  if (missing === undefined) return;
  throw invalidOption(name, missing === null ? what : `${what} (its ${missing} is not a function)`, value);
}

/** The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Every option of `supervisor` and of `compaction` (the compiler keeps them in step with the types). */
const TIMING_NAMES = {
  supervisor: optionNames({
    sweepIntervalMs: true,
    idleSweeps: true,
    maxActive: true,
    maxRestarts: true,
  } satisfies Record<keyof NonNullable<SessionRuntimeOptions['supervisor']>, true>),
  compaction: optionNames({
    timeoutMs: true,
    retryBaseMs: true,
    retryMaxMs: true,
  } satisfies Record<keyof NonNullable<SessionRuntimeOptions['compaction']>, true>),
};

/** Counts and durations of the supervisor and the compaction: a bad one meant timers that fire at once. */
function checkTimings(options: SessionRuntimeOptions): void {
  const numbers: [group: 'supervisor' | 'compaction', name: string, min: number, integer: boolean][] = [
    ['supervisor', 'sweepIntervalMs', 1, false],
    ['supervisor', 'idleSweeps', 1, true],
    ['supervisor', 'maxActive', 0, true],
    ['supervisor', 'maxRestarts', 0, true],
    ['compaction', 'timeoutMs', 1, false],
    ['compaction', 'retryBaseMs', 0, false],
    ['compaction', 'retryMaxMs', 0, false],
  ];
  for (const group of ['supervisor', 'compaction'] as const) {
    const given: unknown = options[group];
    if (given === undefined) continue;
    if (typeof given !== 'object' || given === null) throw invalidOption(group, 'an object', given);
    // A misspelt `maxActiv` would otherwise keep the default without a word.
    checkOptionNames(given, TIMING_NAMES[group], (what) => {
      return new SessionError('INVALID_ARGUMENT', 'runtime', `createSessionRuntime: ${group}: ${what}`);
    });
    for (const [of, name, min, integer] of numbers) {
      if (of !== group) continue;
      const value = (given as Record<string, unknown>)[name];
      if (value === undefined) continue;
      // A count may be Infinity (no cap); a duration must fit a timer (Node fires a longer one at once).
      const ok =
        typeof value === 'number' &&
        value >= min &&
        (integer ? Number.isInteger(value) || value === Infinity : value <= MAX_TIMER_MS);
      const must = integer
        ? `an integer ≥ ${min} (or Infinity)`
        : `a number of ms from ${min} to ${MAX_TIMER_MS}`;
      if (!ok) throw invalidOption(`${group}.${name}`, must, value);
    }
  }
}

/** The options that are the store's own when the host gives one: read from the store, not from here. */
const STORE_OWN = ['durable', 'foldMinBytes', 'syncAppends'] as const;

/**
 * With the host's store, an option that only a store the runtime opens would take is refused, not
 * ignored: a host that asked for `readOnly` over a writable store would get a runtime that writes
 * (it compacts by itself).
 */
function checkStoreOwnOptions(options: SessionRuntimeOptions, store: SessionStore): void {
  const own = STORE_OWN.find((name) => options[name] !== undefined);
  const readOnlyDiffers = options.readOnly !== undefined && options.readOnly !== store.readOnly;
  if (own === undefined && !readOnlyDiffers) return;
  const name = own ?? 'readOnly';
  throw new SessionError(
    'INVALID_ARGUMENT',
    'runtime',
    `createSessionRuntime got ${name}: ${String(options[name])} and a store, whose own ${name} it would ` +
      `ignore${readOnlyDiffers ? ` (the store's readOnly is ${String(store.readOnly)})` : ''}; ` +
      `set ${name} where the store is made (JsonFileSessionStore.open({ root, ${name} })) and leave it out here`,
  );
}

/** @internal The compaction timings of `options` as a session actor's input (only those given). */
export function compactionTimingsOf(
  options: SessionRuntimeOptions,
): Pick<SessionMachineInput, 'compactionTimeoutMs' | 'retryBaseMs' | 'retryMaxMs'> {
  const given = options.compaction;
  return {
    ...(given?.timeoutMs === undefined ? {} : { compactionTimeoutMs: given.timeoutMs }),
    ...(given?.retryBaseMs === undefined ? {} : { retryBaseMs: given.retryBaseMs }),
    ...(given?.retryMaxMs === undefined ? {} : { retryMaxMs: given.retryMaxMs }),
  };
}

/**
 * @internal The client of `send` and `calibrate`: the host's, or one made from the environment on
 * first use (the SDK is loaded then: opening a runtime does not load it).
 *
 * @throws SessionError `INVALID_ARGUMENT` (when called) without a client and without ANTHROPIC_API_KEY.
 */
export function lazyClient(given: Anthropic | undefined): () => Promise<Anthropic> {
  let client = given;
  return async () => {
    if (client) return client;
    if (!hasAnthropicApiKey()) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        'send and calibrate need a client: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL if needed), ' +
          'or pass createSessionRuntime({ client }) or send(id, message, { client })',
      );
    }
    const { default: AnthropicClient } = await loadAnthropicSdk();
    client ??= new AnthropicClient();
    return client;
  };
}
