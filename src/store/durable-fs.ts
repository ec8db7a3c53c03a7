/**
 * @internal The few filesystem primitives every durable write is made of: a unique temporary
 * file, fsync of the file, an atomic rename, fsync of the directory.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** @internal Whether an error is a Node.js system error with the given code. */
export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === code;
}

/** @internal fsync a directory so that a rename or a new entry in it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * @internal Writes `data` to `file` atomically and durably. The temporary file has a unique name
 * (pid and random suffix), unlike steno's fixed `.file.tmp`, so that two writers can never
 * interleave inside one temporary file.
 */
export async function atomicWriteFile(
  file: string,
  data: string,
  options: { durable?: boolean } = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(data, 'utf8');
    if (durable) await handle.datasync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (durable) await fsyncDir(dir);
}

/** @internal Reads a UTF-8 file, or null when it does not exist (lowdb's adapter contract). */
export async function readTextOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

/** @internal mkdir -p, then fsync the parent so that the new directory entry is durable. */
export async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  await fsyncDir(path.dirname(created));
  if (path.dirname(dir) !== path.dirname(created)) await fsyncDir(path.dirname(dir));
}
