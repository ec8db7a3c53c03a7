/**
 * @internal Writes a chat snapshot (chat.json) without stalling the event loop and serialising
 * it once: the messages are serialised one by one into chunks of about 1 MiB, each written (and
 * awaited) before the next is made, so that a 95 MB snapshot never blocks the loop for more than
 * one chunk's work. The checksum (`"$crc32"`, the file's first member, as every store file) is
 * computed over the chunks as they go and written into its place at the end. The write is atomic
 * and durable as every store write: a unique temporary file, fdatasync, rename, fsync of the
 * directory.
 *
 * The snapshot's figures come first (`snapshotSeq`, `totalMessages`, `liveTokens`, timestamps,
 * then `messages`), so that listing sessions reads them from the file's first bytes.
 */
import { textTokenBound } from '../core/token-bound.js';
import { constants } from 'node:fs';
import { unlink, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Message } from '../core/types.js';
import { fsyncDir, openStoreFile, temporaryBeside, writeAll } from './durable-fs.js';
import { inPlaceNotDurable } from './writes-in-doubt.js';
import { crc32 } from './checksum.js';
import { ioError } from './io-error.js';
import { syncData } from './sync-report.js';

/** How many bytes are serialised before they are written and the event loop gets a turn. */
const CHUNK_BYTES = 1024 * 1024;
const HEAD = '{"$crc32":"';
const PLACEHOLDER = `${HEAD}00000000",`;

/** What a snapshot holds. */
export interface SnapshotContent {
  messages: readonly Message[];
  snapshotSeq: number;
}

/** A snapshot written to its temporary file, durably, and not yet in place. */
export interface PreparedSnapshot {
  /** Its size in bytes. */
  bytes: number;
  /**
   * Renames it over the snapshot and syncs the directory. @throws SessionError `IO_ERROR` (when only
   * the directory's fsync failed, the new snapshot is in place, not durable: see `inPlaceNotDurable`).
   */
  install(): Promise<void>;
  /** Removes the temporary file (a newer fold made it obsolete). */
  discard(): Promise<void>;
}

/**
 * @internal Writes `chat` as the snapshot `file`, atomically and durably; returns its size in
 * bytes. `messages` must not change while it runs (callers pass a copy of the list).
 * @throws SessionError `IO_ERROR` (the file is unchanged, no temporary file left behind; except when
 *   only the directory's fsync failed: see {@link PreparedSnapshot.install}).
 */
export async function writeSnapshot(
  file: string,
  chat: SnapshotContent,
  options: { durable: boolean },
): Promise<number> {
  const prepared = await prepareSnapshot(file, chat, options);
  await prepared.install();
  return prepared.bytes;
}

/**
 * @internal Writes `chat` to a temporary file beside `file` (durably), without putting it in
 * place: {@link PreparedSnapshot.install} does, when the caller decides it still should.
 * @throws SessionError `IO_ERROR` (no temporary file left behind).
 */
export async function prepareSnapshot(
  file: string,
  chat: SnapshotContent,
  options: { durable: boolean },
): Promise<PreparedSnapshot> {
  const dir = path.dirname(file);
  const temp = temporaryBeside(file);
  let handle: FileHandle;
  try {
    handle = await openStoreFile(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  } catch (error) {
    throw ioError(error, file, 'write', { outcome: 'it was left unchanged' });
  }
  let bytes = 0;
  try {
    const messages = chat.messages;
    let tokens = 0;
    // A message not counted yet is written without tokens; the figure takes its upper bound.
    for (const m of messages) tokens += (m.tokens as number | undefined) ?? textTokenBound(m.content) ?? 0;
    const head = JSON.stringify({
      snapshotSeq: chat.snapshotSeq,
      totalMessages: messages.length,
      liveTokens: tokens,
      oldestMessageTimestamp: messages[0]?.timestamp ?? null,
      newestMessageTimestamp: messages[messages.length - 1]?.timestamp ?? null,
    });
    // The checksum covers "{" + everything after the checksum member, as verifyChecksum reads it.
    let crc = crc32(Buffer.from('{'), 0);
    const write = async (text: string) => {
      const buffer = Buffer.from(text, 'utf8');
      crc = crc32(buffer, crc);
      await writeAll(handle, buffer);
      bytes += buffer.length;
    };
    await writeAll(handle, Buffer.from(PLACEHOLDER));
    bytes += PLACEHOLDER.length;
    let chunk = `${head.slice(1, -1)},"messages":[`;
    for (let i = 0; i < messages.length; i++) {
      chunk += (i === 0 ? '' : ',') + JSON.stringify(messages[i]);
      if (chunk.length >= CHUNK_BYTES) {
        await write(chunk); // the event loop runs while it is written
        chunk = '';
      }
    }
    await write(`${chunk}]}`);
    // Into its place; a short write (a full disk) is continued, as writeAll does.
    const sum = Buffer.from(crc.toString(16).padStart(8, '0'));
    for (let done = 0; done < sum.length;) {
      const { bytesWritten } = await handle.write(sum, done, sum.length - done, HEAD.length + done);
      if (bytesWritten <= 0)
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      done += bytesWritten;
    }
    if (options.durable) await syncData(handle, temp);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw ioError(error, file, 'write', { outcome: 'it was left unchanged' });
  }
  try {
    await handle.close();
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw ioError(error, file, 'write', { outcome: 'it was left unchanged' });
  }
  return {
    bytes,
    async install() {
      try {
        await rename(temp, file);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw ioError(error, file, 'replace', { outcome: 'it was left unchanged' });
      }
      if (options.durable)
        await fsyncDir(dir).catch((error: unknown) => {
          throw inPlaceNotDurable(error, file);
        });
    },
    async discard() {
      await unlink(temp).catch(() => undefined);
    },
  };
}
