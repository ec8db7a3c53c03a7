/**
 * @internal The options of the runtime's methods, by name, checked alike by the runtime, by the
 * Restate client's runtime and by the IPC's argument checks: a name that is none of a method's
 * options is refused, naming it (`src/core/option-names.ts`), where it would otherwise be ignored
 * without a word.
 */
import { SessionError } from '../core/errors.js';
import { checkOptionNames, optionNames } from '../core/option-names.js';
import type { SendOptions } from './conversation.js';
import type { ClearOptions, CreateSessionOptions, SessionRuntime } from './types.js';

type OptionsOf<M extends keyof SessionRuntime, N extends number> = SessionRuntime[M] extends (
  ...args: infer A
) => unknown
  ? keyof NonNullable<A[N]>
  : never;

const REQUEST = optionNames({ format: true, cache: true } satisfies Record<
  OptionsOf<'buildRequest', 2>,
  true
>);

/** Every option of each method that takes an options object the runtime passes on as it is. */
const METHOD_OPTIONS = {
  // A misspelt `contxt` would start the session without its context.
  createSession: optionNames({
    context: true,
    agentDescription: true,
    checkpoint: true,
  } satisfies Record<keyof CreateSessionOptions, true>),
  // A misspelt `keepRecent` would compact to the session's own tail.
  compact: optionNames({ keepRecentTokens: true } satisfies Record<OptionsOf<'compact', 1>, true>),
  // A misspelt `versoin` would read the current checkpoint, not the one asked for.
  getCheckpoint: optionNames({ version: true } satisfies Record<OptionsOf<'getCheckpoint', 1>, true>),
  // A misspelt `fromat` would build the flattened request.
  buildRequest: REQUEST,
  previewRequest: REQUEST,
  // A misspelt `idempotncyKey` would store a retried turn twice.
  send: optionNames({
    client: true,
    model: true,
    maxTokens: true,
    signal: true,
    cache: true,
    idempotencyKey: true,
  } satisfies Record<keyof SendOptions, true>),
  // A misspelt `modle` would calibrate the runtime's model, not the one asked for.
  calibrate: optionNames({ client: true, model: true } satisfies Record<OptionsOf<'calibrate', 1>, true>),
  // A misspelt `iteratoin` would clear the messages without recording the iteration.
  clearMessages: optionNames({ iteration: true, decisions: true } satisfies Record<keyof ClearOptions, true>),
} as const;

/**
 * @internal The names of `method`'s options, for a transport that checks them before it calls
 * the runtime (`src/ipc/arguments.ts`).
 * @example methodOptionNames('clearMessages') // ['iteration', 'decisions']
 */
export function methodOptionNames(method: keyof typeof METHOD_OPTIONS): readonly string[] {
  return METHOD_OPTIONS[method];
}

/**
 * @internal Refuses the options of `method` when they are not an object or name none of its
 * options; `undefined` and `null` are no options (as the IPC's optional arguments).
 * @throws SessionError `INVALID_ARGUMENT` naming the method and the name, and listing the options.
 * @example checkMethodOptions('compact', { keepRecent: 0 }) // throws: compact: "keepRecent" is not an option; ...
 */
export function checkMethodOptions(method: keyof typeof METHOD_OPTIONS, options: unknown): void {
  if (options === undefined || options === null) return;
  checkOptionNames(options as object, METHOD_OPTIONS[method], (what) => {
    return new SessionError('INVALID_ARGUMENT', 'runtime', `${method}: ${what}`);
  });
}
