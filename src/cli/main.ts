#!/usr/bin/env node
/**
 * The `dagent-sessions` command line: a table of commands, each in its own module (loaded when
 * it runs, so that one command's dependencies never slow down or break another), global help,
 * and one way of reporting errors.
 */
import { RESTATE_READERS, takeRestateOption, withRestateTarget } from './restate-target.js';
import { reportError } from './command.js';
import { processIO, type CliCommand, type CliIO } from './io.js';
import { packageVersion } from './package-info.js';

/** @internal One entry of the command table. */
interface CommandEntry {
  /** Arguments as shown in the usage. */
  args: string;
  summary: string;
  load: () => Promise<CliCommand>;
}

/** @internal Every command, in the order the usage lists them. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  demo: {
    args: '',
    summary: "replay agent sessions scripted over the package's own files, then inspect them (offline)",
    load: async () => (await import('./demo.js')).demoCommand,
  },
  inspect: {
    args: '',
    summary: "serve the inspector page and a root's sessions over HTTP (changes them: compact, clear...)",
    load: async () => (await import('./inspect-command.js')).inspectCommand,
  },
  replay: {
    args: 'FILE',
    summary: 'replay a conversation into a session, checking every request',
    load: async () => (await import('./replay-command.js')).replayCommand,
  },
  import: {
    args: 'FILE',
    summary: 'append a transcript or a Claude Code .jsonl log to a session',
    load: async () => (await import('./import-command.js')).importCommand,
  },
  list: {
    args: '',
    summary: 'the sessions of a root',
    load: async () => (await import('./list-command.js')).listCommand,
  },
  show: {
    args: 'ID',
    summary: 'a session: figures, checkpoint, last messages',
    load: async () => (await import('./show-command.js')).showCommand,
  },
  preview: {
    args: 'ID',
    summary: 'the next request of a session, part by part',
    load: async () => (await import('./preview-command.js')).previewCommand,
  },
  compact: {
    args: 'ID',
    summary: 'compact a session now',
    load: async () => (await import('./compact-command.js')).compactCommand,
  },
  export: {
    args: 'ID',
    summary: 'a session with its whole history, as JSON',
    load: async () => (await import('./export-command.js')).exportCommand,
  },
  migrate: {
    args: '',
    summary: 'move legacy DAGent conversations into sessions (or roll back)',
    load: async () => (await import('./migrate-command.js')).migrateCommand,
  },
  repair: {
    args: 'ID',
    summary: "rebuild a damaged session's session.json or checkpoint.json, losing no message",
    load: async () => (await import('./repair-command.js')).repairCommand,
  },
  restate: {
    args: '',
    summary: 'sessions on Restate: dev (a local restate-server with the endpoint) or serve (the endpoint)',
    load: async () => (await import('./restate-command.js')).restateCommand,
  },
};

/** @internal The global usage. */
export const USAGE = `Usage: dagent-sessions <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${`${name} ${c.args}`.padEnd(14)}  ${c.summary}`)
  .join('\n')}

Every command but restate takes --root DIR (default: the current directory; demo: its own root in
the temporary directory; migrate: required); every command takes -h/--help, and those that print
data take --json. list, show, preview and export only read: they work while a host holds the root.
replay, import, compact, migrate and repair need its write lock.
inspect takes the write lock when the root is free (its page can compact, clear and reset), and
otherwise attaches to the host that holds it, or serves the root read-only.
list, show, preview and export take --restate URL instead of --root: they read the sessions of a
Restate server through its ingress (docs/restate.md).

Exit codes: 0 success; 1 a usage or input error (said on stderr); 2 the work ran but found a
problem; 3 migrate found no DAGent conversation. "dagent-sessions help COMMAND" or
"dagent-sessions COMMAND --help" shows a command's options;
"dagent-sessions --version" prints the version.`;

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the exit code: 0 success,
 * 1 usage or input error, 2 the work ran but found a problem, 3 `migrate` found no DAGent conversation.
 * Never throws: errors are written to `io.err` (`message (CODE)` for a `SessionError`, the stack
 * otherwise).
 *
 * @param argv - the arguments, for example `['list', '--root', '/repo', '--json']`.
 * @param io - where output goes; default the process's stdout and stderr.
 * @returns the exit code.
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(USAGE);
    return 1;
  }
  if (name === '-h' || name === '--help') {
    io.out(USAGE);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    io.out(packageVersion());
    return 0;
  }
  if (name === 'help') {
    const [topic] = rest;
    if (topic === undefined) {
      io.out(USAGE);
      return 0;
    }
    return run(topic, ['--help'], io);
  }
  return run(name, rest, io);
}

async function run(name: string, args: string[], io: CliIO): Promise<number> {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.err(`dagent-sessions: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 1;
  }
  // --restate URL: the reading commands read a Restate server's sessions (src/cli/restate-target.ts).
  const { url, rest } = takeRestateOption(args);
  if (url !== null && !(RESTATE_READERS as readonly string[]).includes(name)) {
    io.err(`dagent-sessions ${name}: --restate URL works with ${RESTATE_READERS.join(', ')} only`);
    return 1;
  }
  if (url === 'missing') {
    io.err(`dagent-sessions ${name}: --restate needs the ingress URL, such as http://127.0.0.1:8080`);
    return 1;
  }
  try {
    const command = await entry.load();
    return await (url === null ? command(args, io) : withRestateTarget(url, () => command(rest, io)));
  } catch (error) {
    return reportError(error, io);
  }
}

const isEntry =
  process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
