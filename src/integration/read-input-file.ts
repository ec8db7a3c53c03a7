/**
 * @internal Reading a file a person named (a transcript, a log): a missing file is their mistake
 * (`INVALID_ARGUMENT`, saying what kind of file to give), anything else an `IO_ERROR`.
 */
import { readFile } from 'node:fs/promises';
import { SessionError, describeError } from '../core/errors.js';

/**
 * @internal The text of `file`.
 * @param what - how messages name the file, for example `transcript ${file}`.
 * @param expected - what to give instead, for example `the path of a transcript JSON file`.
 * @throws SessionError `INVALID_ARGUMENT` (missing, a directory) or `IO_ERROR`.
 */
export async function readInputFile(file: string, what: string, expected: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'EISDIR') {
      throw new SessionError('INVALID_ARGUMENT', 'cli', `${what}: no such file (${code}); give ${expected}`, {
        cause: error,
        details: { origin: file },
      });
    }
    throw new SessionError('IO_ERROR', 'cli', `${what}: cannot read it: ${describeError(error)}`, {
      cause: error,
      details: { origin: file },
    });
  }
}
