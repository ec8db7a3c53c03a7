/**
 * One writer per root: the lock refuses a second runtime of this process and a live other
 * process, naming the holder, and takes over the lock of a dead one.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessionError, type SessionError } from '../../src/core/errors.js';
import { exitListenerCount } from '../../src/store/held-locks.js';
import {
  acquireRootLock,
  processStartOf,
  readLockHolder,
  type AcquireRootLockOptions,
  type LockHolder,
  type RootLock,
} from '../../src/store/root-lock.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';

const run = promisify(execFile);
const STORE_MODULE = pathToFileURL(
  fileURLToPath(new URL('../../src/store/session-store.ts', import.meta.url)),
).href;

let root: string;
let lockFile: string;
const children: ChildProcess[] = [];
const locks: RootLock[] = [];

/**
 * Resolves once a file whose name passes `test` is in `dir` (already, or as soon as it is made):
 * an acquire in flight shows itself by its candidate file.
 */
function untilFileIn(dir: string, test: (name: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir, (_event, name) => {
      if (name !== null && test(String(name))) done();
    });
    const done = () => {
      watcher.close();
      resolve();
    };
    readdir(dir).then((names) => (names.some(test) ? done() : undefined), reject);
  });
}

const isCandidate = (name: string) => name.endsWith('.candidate');

async function acquire(description?: string, options?: AcquireRootLockOptions): Promise<RootLock> {
  const lock = await acquireRootLock(root, description, options);
  locks.push(lock);
  return lock;
}

async function refusal(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSessionError(error, 'ROOT_LOCKED')) throw new Error(`expected ROOT_LOCKED, got ${String(error)}`);
  return error;
}

async function writeLock(holder: Partial<LockHolder> & { pid: number }, file = lockFile): Promise<void> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const full: LockHolder = {
    hostname: os.hostname(),
    processStart: null,
    acquiredAt: '2026-01-01T00:00:00.000Z',
    token: 'hand-written',
    ...holder,
  };
  await writeFile(file, `${JSON.stringify(full)}\n`);
}

/** The files of .dagent, but the sessions directory. */
async function lockFiles(): Promise<string[]> {
  return (await readdir(path.dirname(lockFile))).filter((name) => name !== 'sessions').sort();
}

async function readLock(): Promise<LockHolder> {
  return JSON.parse(await readFile(lockFile, 'utf8')) as LockHolder;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A process that sleeps until killed. */
async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

/** Another process that opens the root with JsonFileSessionStore (through tsx) and says how it went. */
async function openInChild(
  readOnly = false,
): Promise<{ code?: string; message?: string; holderPid?: number; opened?: boolean }> {
  const script = `
    const { JsonFileSessionStore } = await import(process.env.STORE_MODULE);
    try {
      const store = await JsonFileSessionStore.open({
        root: process.env.ROOT,
        readOnly: process.env.READ_ONLY === '1',
        description: 'child',
      });
      await store.close();
      console.log(JSON.stringify({ opened: true }));
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, message: error.message, holderPid: error.details?.holder?.pid }));
    }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, STORE_MODULE, ROOT: root, READ_ONLY: readOnly ? '1' : '0' },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    code?: string;
    message?: string;
    holderPid?: number;
    opened?: boolean;
  };
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dagent-lock-'));
  lockFile = path.join(root, '.dagent', 'lock');
});

afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  await rm(root, { recursive: true, force: true });
});

describe('acquireRootLock in one process', () => {
  it('refuses a second acquire, naming the holder', async () => {
    const first = await acquire('first runtime');
    expect(first.holder.pid).toBe(process.pid);
    expect(await readLock()).toEqual(first.holder);

    const error = await refusal(acquire());
    expect(error.message).toContain(`process ${process.pid}`);
    expect(error.message).toContain('first runtime');
    expect(error.details.holder).toEqual(first.holder);
    expect(await readLock()).toEqual(first.holder); // untouched
  });

  it('can be taken again once released; release is idempotent', async () => {
    const first = await acquire();
    await first.release();
    await first.release();
    await expect(readFile(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
    const second = await acquire();
    expect(second.holder.token).not.toBe(first.holder.token);
    expect((await readLock()).token).toBe(second.holder.token);
    await first.release(); // an old handle does not remove the new lock
    expect((await readLock()).token).toBe(second.holder.token);
  });

  it('release leaves a lock that someone else took over', async () => {
    const mine = await acquire();
    await writeLock({ pid: process.pid, token: 'someone-else' });
    await mine.release();
    expect((await readLock()).token).toBe('someone-else');
  });
});

describe('acquireRootLock in one process, further', () => {
  it('of two acquires started together, exactly one wins', async () => {
    const results = await Promise.allSettled([
      acquireRootLock(root),
      acquireRootLock(root),
      acquireRootLock(root),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<RootLock> => r.status === 'fulfilled');
    locks.push(...won.map((r) => r.value));
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(isSessionError(r.reason, 'ROOT_LOCKED')).toBe(true);
    expect((await readLock()).token).toBe(won[0]!.value.holder.token);
  });

  it('takes over a lock of this process that no runtime holds any more', async () => {
    await writeLock({ pid: process.pid, processStart: processStartOf(process.pid), token: 'orphan' });
    const lock = await acquire();
    expect((await readLock()).token).toBe(lock.holder.token);
  });

  it('refuses a lock of another thread of this process', async () => {
    await writeLock({ pid: process.pid, processStart: processStartOf(process.pid), threadId: 3 });
    const error = await refusal(acquire());
    expect(error.message).toContain('another thread of this process (3)');
  });

  it('is released by Symbol.asyncDispose (await using)', async () => {
    const lock = await acquireRootLock(root);
    await lock[Symbol.asyncDispose]();
    expect(await readLockHolder(root)).toBeNull();
    await (await acquire()).release();
  });

  it('registers one exit listener for all its locks, and removes it with the last', async () => {
    const otherRoot = await mkdtemp(path.join(os.tmpdir(), 'dagent-lock-'));
    try {
      expect(exitListenerCount()).toBe(0);
      const first = await acquireRootLock(root);
      const second = await acquireRootLock(otherRoot);
      expect(exitListenerCount()).toBe(1);
      await first.release();
      expect(exitListenerCount()).toBe(1);
      await second.release();
      expect(exitListenerCount()).toBe(0);
    } finally {
      await rm(otherRoot, { recursive: true, force: true });
    }
  });

  it('reports IO_ERROR with the errno when the lock cannot be written', async () => {
    const notADirectory = path.join(root, 'file');
    await writeFile(notADirectory, '');
    const error = await acquireRootLock(notADirectory).catch((e: unknown) => e);
    expect(isSessionError(error, 'IO_ERROR')).toBe(true);
    expect((error as SessionError).details.errno).toMatch(/^E/);
    expect(exitListenerCount()).toBe(0);
  });
});

describe('locks left by other processes', () => {
  it('takes over the lock of a dead process', async () => {
    const pid = await deadPid();
    await writeLock({ pid, description: 'crashed runtime' });
    const lock = await acquire();
    expect(await readLock()).toEqual(lock.holder);
    expect(lock.holder.pid).toBe(process.pid);
  });

  it('refuses while a live other process holds it, naming that process', async () => {
    const child = await sleeper();
    const pid = child.pid!;
    await writeLock({ pid, processStart: processStartOf(pid), description: 'the other runtime' });
    const error = await refusal(acquire());
    expect(error.message).toContain(`process ${pid} on ${os.hostname()} (the other runtime)`);
    expect((error.details.holder as LockHolder).pid).toBe(pid);
    expect((await readLock()).pid).toBe(pid);

    // Once that process is gone, its lock is taken over.
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await acquire();
    expect((await readLock()).token).toBe(lock.holder.token);
  });

  it('takes over a lock whose pid now belongs to another process (start time differs)', async () => {
    const child = await sleeper();
    await writeLock({ pid: child.pid!, processStart: '1' });
    const lock = await acquire();
    expect((await readLock()).token).toBe(lock.holder.token);
  });

  it('refuses a lock held on another host, since it cannot tell whether the holder lives', async () => {
    await writeLock({ pid: 1, hostname: 'some-other-host' });
    const error = await refusal(acquire());
    expect(error.message).toContain('process 1 on some-other-host');
    expect(error.message).toContain('another host (some-other-host)');
    expect(error.message).toContain(`if it is gone, delete ${lockFile}`);
  });

  it(
    'leaves a fresh unreadable lock alone while it may be being written, ' +
      'and names its holder once it parses',
    async () => {
      const child = await sleeper();
      await mkdir(path.dirname(lockFile), { recursive: true });
      await writeFile(lockFile, '{"pid": 12'); // an old version between its create and its write
      const pending = refusal(acquire());
      await untilFileIn(path.dirname(lockFile), isCandidate); // the acquire is in flight
      await writeLock({
        pid: child.pid!,
        processStart: processStartOf(child.pid!),
        description: 'old version',
      });
      const error = await pending;
      expect(error.message).toContain(`process ${child.pid} on ${os.hostname()} (old version)`);
    },
  );

  it(
    'takes over an unreadable lock once it is older than the grace period, ' +
      'or has stayed unchanged for it',
    async () => {
      await mkdir(path.dirname(lockFile), { recursive: true });
      await writeFile(lockFile, '');
      const anHourAgo = new Date(Date.now() - 3_600_000);
      await utimes(lockFile, anHourAgo, anHourAgo);
      const first = await acquire();
      expect((await readLock()).token).toBe(first.holder.token);
      await first.release();

      await writeFile(lockFile, '{"pid": 12'); // fresh, and never finished
      const second = await acquire(undefined, { unreadableGraceMs: 200 });
      expect((await readLock()).token).toBe(second.holder.token);
      expect(await lockFiles()).toEqual(['lock']);
    },
  );

  it('follows the claims of takers that died before finishing, and removes them', async () => {
    const [dead, claimant, next] = [await deadPid(), await deadPid(), await deadPid()];
    await writeLock({ pid: dead, token: 'dead' });
    await writeLock({ pid: claimant, token: 'claimant' }, `${lockFile}.dead.next`);
    await writeLock({ pid: next, token: 'next' }, `${lockFile}.claimant.next`);
    const lock = await acquire();
    expect((await readLock()).token).toBe(lock.holder.token);
    expect(await lockFiles()).toEqual(['lock']);
  });

  it('waits while a live process is taking the lock over, and takes it when that process dies', async () => {
    const taker = await sleeper();
    await writeLock({ pid: await deadPid(), token: 'dead' });
    await writeLock(
      { pid: taker.pid!, processStart: processStartOf(taker.pid!), token: 'taker' },
      `${lockFile}.dead.next`,
    );
    let settled = false;
    const pending = acquire().finally(() => (settled = true));
    await untilFileIn(path.dirname(lockFile), isCandidate); // the acquire is in flight
    expect((await readLock()).token).toBe('dead'); // not taken meanwhile
    expect(settled).toBe(false);
    taker.kill('SIGKILL');
    const lock = await pending;
    expect((await readLock()).token).toBe(lock.holder.token);
    expect(await lockFiles()).toEqual(['lock']);
  });

  it('gives up on a taker that never finishes, naming it', async () => {
    const taker = await sleeper();
    await writeLock({ pid: await deadPid(), token: 'dead' });
    const claim = {
      pid: taker.pid!,
      processStart: processStartOf(taker.pid!),
      token: 'taker',
      description: 'stuck',
    };
    await writeLock(claim, `${lockFile}.dead.next`);
    const error = await refusal(acquire(undefined, { patienceMs: 100 }));
    expect(error.message).toContain(`process ${taker.pid} on ${os.hostname()} (stuck)`);
    expect(error.message).toContain('is taking it over; try again in a moment');
    expect(error.retryable).toBe(true);
    expect((await readLock()).token).toBe('dead');
  });

  it('removes what dead takers left beside the lock, and keeps what live ones are using', async () => {
    const live = await sleeper();
    const dead = await deadPid();
    await writeLock({ pid: dead, token: 'a' }, `${lockFile}.a.candidate`);
    await writeLock({ pid: dead, token: 'b' }, `${lockFile}.gone.next`);
    await writeLock({ pid: dead, token: 'c' }, `${lockFile}.stale-0a1b2c3d`);
    await writeLock(
      { pid: live.pid!, processStart: processStartOf(live.pid!), token: 'd' },
      `${lockFile}.d.candidate`,
    );
    await writeFile(`${lockFile}.notes`, 'not ours');
    await acquire();
    expect(await lockFiles()).toEqual(['lock', 'lock.d.candidate', 'lock.notes']);
  });

  it('works the same on a filesystem without hard links', async () => {
    const first = await acquire(undefined, { hardLinks: false });
    expect(await readLock()).toEqual(first.holder);
    await refusal(acquireRootLock(root, undefined, { hardLinks: false }));
    await first.release();
    await writeLock({ pid: await deadPid(), token: 'dead' });
    await writeLock({ pid: await deadPid(), token: 'claimant' }, `${lockFile}.dead.next`);
    const second = await acquire(undefined, { hardLinks: false });
    expect((await readLock()).token).toBe(second.holder.token);
    expect(await lockFiles()).toEqual(['lock']);
  });
});

describe('a second process on the same root', () => {
  it('gets ROOT_LOCKED naming this process while it writes, and opens once it has closed', async () => {
    const store = await JsonFileSessionStore.open({ root, description: 'the test runner' });
    try {
      const refused = await openInChild();
      expect(refused.code).toBe('ROOT_LOCKED');
      expect(refused.holderPid).toBe(process.pid);
      expect(refused.message).toContain(`process ${process.pid}`);
      expect(refused.message).toContain('the test runner');
      // A read-only open needs no lock.
      expect(await openInChild(true)).toEqual({ opened: true });
    } finally {
      await store.close();
    }
    expect(await openInChild()).toEqual({ opened: true });
    // The child released its lock on close: this process may write again.
    const again = await JsonFileSessionStore.open({ root });
    await again.close();
  });
});
