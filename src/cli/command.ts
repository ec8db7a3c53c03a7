/**
 * @internal How a command is declared: its usage text, its options (node:util `parseArgs`,
 * strict) and its positionals. {@link defineCommand} turns that into a {@link CliCommand} that
 * prints its usage for `-h`/`--help`, reports bad arguments as usage errors and errors as
 * `message (CODE)`, all with exit code 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SessionIpcError } from '../ipc/channels.js';
import { SessionError } from '../core/errors.js';
import type { CliCommand, CliIO } from './io.js';

/** @internal The `options` of a parseArgs config. */
export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** @internal The parsed option values of a command declared with `options: O`. */
export type CommandValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; strict: true; allowPositionals: true }>
>['values'];

/** @internal What a command declares. */
export interface CommandSpec<O extends OptionsConfig> {
  /** The command's name, as typed after `dagent-sessions`. */
  name: string;
  /** The text `--help` prints (and usage errors point to). */
  usage: string;
  /** Its options; `-h`/`--help` is added. */
  options: O;
  /** Names of its positionals, all required (`['ID']`, `['FILE']`). */
  positionals?: readonly string[];
}

/** @internal What a command's body receives. */
export interface CommandInput<O extends OptionsConfig> {
  values: CommandValues<O>;
  positionals: string[];
}

/** @internal Whether `error` is one of parseArgs's own errors (unknown option, missing value...). */
export function isParseArgsError(error: unknown): error is TypeError & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** @internal Prints an error as the CLI reports it and returns exit code 1. */
export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof SessionError) {
    io.err(`${error.message} (${error.code})`);
  } else if (error instanceof SessionIpcError) {
    io.err(`${error.message} (from the host holding the root)`); // the message starts with its code
  } else {
    io.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  return 1;
}

/** @internal A usage error of `name`: what was wrong and where the usage is; exit code 1. */
export function usageError(io: CliIO, name: string, message: string): number {
  io.err(`dagent-sessions ${name}: ${message}`);
  io.err(`Run "dagent-sessions ${name} --help" for its usage.`);
  return 1;
}

/**
 * @internal Declares a command. The body runs only with valid arguments; whatever it throws is
 * reported ({@link reportError}) so that the command behaves the same called from `main` or alone.
 * @example
 * ```ts
 * export const listCommand = defineCommand({ name: 'list', usage: USAGE, options: { root: { type: 'string' } } },
 *   async ({ values }, io) => { io.out(values.root ?? process.cwd()); return 0; });
 * ```
 */
export function defineCommand<const O extends OptionsConfig>(
  spec: CommandSpec<O>,
  run: (input: CommandInput<O>, io: CliIO) => Promise<number>,
): CliCommand {
  return async (args, io) => {
    let parsed: { values: CommandValues<O>; positionals: string[] };
    try {
      parsed = parseArgs({
        args,
        options: { ...spec.options, ...HELP },
        strict: true,
        allowPositionals: true,
      }) as typeof parsed;
    } catch (error) {
      if (isParseArgsError(error)) return usageError(io, spec.name, error.message);
      return reportError(error, io);
    }
    if ((parsed.values as { help?: boolean }).help === true) {
      io.out(spec.usage);
      return 0;
    }
    const expected = spec.positionals ?? [];
    if (parsed.positionals.length < expected.length) {
      return usageError(io, spec.name, `missing ${expected.slice(parsed.positionals.length).join(' ')}`);
    }
    if (parsed.positionals.length > expected.length) {
      return usageError(
        io,
        spec.name,
        `unexpected argument ${JSON.stringify(parsed.positionals[expected.length])}`,
      );
    }
    try {
      return await run(parsed, io);
    } catch (error) {
      return reportError(error, io);
    }
  };
}

/**
 * @internal An integer option: undefined when absent.
 * @throws SessionError `INVALID_ARGUMENT` naming the flag when it is not an integer >= `min`.
 */
export function intOption(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * @internal A choice option: undefined when absent.
 * @throws SessionError `INVALID_ARGUMENT` listing the choices.
 */
export function choiceOption<const C extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `${flag} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as C;
}
