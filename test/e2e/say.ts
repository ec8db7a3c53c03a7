/**
 * One report line from a child process to its parent, written straight into the stdout pipe with
 * write(2) before the work it announces goes on. process.stdout may queue a write inside the
 * process when the pipe is busy (a loaded machine), and a SIGKILL would then lose the line.
 */
import { writeSync } from 'node:fs';

/** Writes `line` and a newline to fd 1, whole. */
export function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error; // pipe full: the parent reads it soon
    }
  }
}
