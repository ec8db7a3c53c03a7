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
import type { SessionStore } from '../store/contract.js';
import { isStore } from './history.js';
import type { SessionRuntimeOptions } from './types.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './validate.js';

/**
 * @internal The options checked: the host's store (if any) and the largest message accepted.
 *
 * @throws SessionError `INVALID_ARGUMENT` without a root or a store, with a bad maxMessageBytes, or
 *   with a store and an option that is the store's own (`durable`, `foldMinBytes`, `syncAppends`, a
 *   `readOnly` other than the store's).
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
  if (given !== undefined) checkStoreOwnOptions(options, given);
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
