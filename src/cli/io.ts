import { describeError } from '../core/errors.js';

/**
 * @internal What a CLI command writes to: stdout lines, stderr lines, and whether a person is
 * watching (progress bars only then). Commands take it as a parameter so tests can capture output.
 */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** stderr is a terminal: draw progress bars. */
  interactive: boolean;
}

/** @internal The streams whose reader has gone (EPIPE): what is written to them is dropped. */
const gone = new WeakSet<NodeJS.WriteStream>();
const watched = new WeakSet<NodeJS.WriteStream>();

/**
 * @internal Writes a line to `stream`. When the reading end of a pipe closes (`export ID | head`),
 * Node reports EPIPE as an `error` event that would crash the process with a stack trace; a
 * command line tool ends quietly instead: the rest of the output is dropped and the command
 * finishes what it was doing (nothing half-written), then exits with its own code. Any other
 * stream error (a full disk under `export ID > file`) drops the rest of the output the same way,
 * is said in one line on stderr, and makes a command that succeeded exit with 1: its output is
 * incomplete.
 */
export function writeLine(stream: NodeJS.WriteStream, line: string): void {
  if (!watched.has(stream)) {
    watched.add(stream);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      gone.add(stream);
      if (error.code === 'EPIPE') return;
      const name = stream === process.stdout ? 'stdout' : stream === process.stderr ? 'stderr' : 'the output';
      writeLine(
        process.stderr,
        `dagent-sessions: cannot write to ${name}: ${describeError(error)}; the output is incomplete`,
      );
      // The command's own code is set when it ends (bin/dagent-sessions.js), so it is raised on 'exit'.
      process.once('exit', () => {
        if (process.exitCode === undefined || Number(process.exitCode) === 0) process.exitCode = 1;
      });
    });
  }
  if (gone.has(stream)) return;
  stream.write(`${line}\n`);
}

/** @internal The process's own stdout and stderr. */
export const processIO: CliIO = {
  out: (line) => writeLine(process.stdout, line),
  err: (line) => writeLine(process.stderr, line),
  interactive: process.stderr.isTTY === true,
};

/**
 * A CLI command: parses its own arguments (after the command name), resolves to the exit code.
 * 0 success, 1 usage or input error, 2 the work ran but found a problem, 3 `migrate` found no DAGent
 * conversation.
 */
export type CliCommand = (args: string[], io: CliIO) => Promise<number>;
