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

/** @internal The process's own stdout and stderr. */
export const processIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  interactive: process.stderr.isTTY === true,
};

/**
 * A CLI command: parses its own arguments (after the command name), resolves to the exit code.
 * 0 success, 1 usage or input error, 2 the work ran but found a problem.
 */
export type CliCommand = (args: string[], io: CliIO) => Promise<number>;
