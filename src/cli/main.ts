#!/usr/bin/env node
/**
 * The `dagent-sessions` command line.
 */
import { parseArgs } from 'node:util';
import { SessionError } from '../core/errors.js';
import { runDemo } from './demo.js';

const USAGE = `Usage: dagent-sessions <command> [options]

Commands:
  demo      Replay a long conversation through a session with the offline compactor
            and print messages, compactions, the largest request and append latency.

Options of demo:
  --transcript FILE   replay FILE (the format of the shared transcripts) instead of the bundled conversation
  --root DIR          write sessions under DIR/.dagent (default: a new temporary directory)
  --max-tokens N      the session's token limit (default 100000)
  --json              print the report as JSON
  -h, --help          show this help
`;

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  try {
    if (command === 'demo') {
      const { values } = parseArgs({
        args: rest,
        options: {
          transcript: { type: 'string' },
          root: { type: 'string' },
          'max-tokens': { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      });
      if (values.help) {
        console.log(USAGE);
        return 0;
      }
      const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
      if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) {
        throw new SessionError('INVALID_ARGUMENT', 'cli', `--max-tokens must be a positive integer, got ${values['max-tokens']}`);
      }
      const report = await runDemo({
        ...(values.transcript ? { transcript: values.transcript } : {}),
        ...(values.root ? { root: values.root } : {}),
        ...(maxTokens ? { maxTokens } : {}),
        json: values.json,
      });
      return report.historyIntact && report.requestsOverLimit === 0 ? 0 : 2;
    }
    console.error(`dagent-sessions: unknown command "${command}"\n\n${USAGE}`);
    return 1;
  } catch (error) {
    if (error instanceof SessionError) {
      console.error(`${error.message} (${error.code})`);
    } else if (error instanceof TypeError && 'code' in error && String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`dagent-sessions: ${error.message}\n\n${USAGE}`);
    } else {
      console.error(error);
    }
    return 1;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
