/**
 * @internal How `import` remembers what it imported: the first message of each import carries
 * `metadata.import` (the file's SHA-256, its name, how many messages it brought, when), so that
 * importing the same file into the same session again is refused instead of silently doubling the
 * history. The mark is in the session itself (archived with its message, exported with it), so it
 * holds whoever opens the root next.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SessionError, describeError } from '../core/errors.js';
import type { Message, MessageInput } from '../core/types.js';

/** @internal What `metadata.import` of an import's first message holds. */
export interface ImportMark {
  sha256: string;
  file: string;
  /** Messages this import appended, the marked one first. */
  messages: number;
  /** When the import ran (the messages keep the timestamps of the file). */
  at: string;
}

/** @internal An earlier import of the same content, as the history shows it. */
export interface EarlierImport {
  mark: ImportMark;
  /** Seq of its first message. */
  firstSeq: number;
  /** How many of its messages the history holds (fewer than `mark.messages`: it was interrupted). */
  present: number;
}

/**
 * @internal The SHA-256 of a file's bytes, in hex.
 * @throws SessionError `IO_ERROR` when it cannot be read.
 */
export async function fileSha256(file: string): Promise<string> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch (error) {
    throw new SessionError('IO_ERROR', 'cli', `cannot read ${file}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/** @internal `message` with the import's mark in its metadata. */
export function withImportMark(message: MessageInput, mark: ImportMark): MessageInput {
  return { ...message, metadata: { ...message.metadata, import: { ...mark } } };
}

function markOf(message: Message): ImportMark | null {
  const mark = message.metadata?.import as Partial<ImportMark> | undefined;
  if (typeof mark !== 'object' || mark === null || typeof mark.sha256 !== 'string') return null;
  return {
    sha256: mark.sha256,
    file: String(mark.file ?? ''),
    messages: typeof mark.messages === 'number' ? mark.messages : 0,
    at: String(mark.at ?? ''),
  };
}

/**
 * @internal The latest import of content `sha256` in `history`, or null. An import runs under the
 * root's write lock, so its messages are the ones right after its marked message.
 */
export function findImport(history: readonly Message[], sha256: string): EarlierImport | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i]!;
    const mark = markOf(message);
    if (mark?.sha256 !== sha256) continue;
    return { mark, firstSeq: message.seq, present: Math.min(mark.messages, history.length - i) };
  }
  return null;
}
