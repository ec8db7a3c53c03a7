/**
 * A process that ends without releasing its lock: real child processes take the lock of a root
 * and then end by themselves (their lock is removed on 'exit'), or are killed with SIGKILL (their
 * lock stays, names a dead process, and the next process takes it over).
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireRootLock, readLockHolder, type LockHolder } from '../../src/store/root-lock.js';
import { tempRoot } from '../helpers/temp-root.js';

const LOCK_MODULE = pathToFileURL(
  fileURLToPath(new URL('../../src/store/root-lock.ts', import.meta.url)),
).href;

/**
 * The child: takes the lock of every root in ROOTS, prints `held <token>...`, then waits for a
 * line on stdin and does what it says: `end` (return, the event loop runs dry), `exit` (call
 * process.exit(3)), `release-first` (release the first lock, then end).
 */
const CHILD = `
  const { acquireRootLock } = await import(process.env.LOCK_MODULE);
  const locks = [];
  for (const root of process.env.ROOTS.split('\\n')) locks.push(await acquireRootLock(root, 'exiting child'));
  console.log('held ' + locks.map((l) => l.holder.token).join(' '));
  process.stdin.once('data', async (data) => {
    process.stdin.destroy();
    const command = data.toString().trim();
    if (command === 'exit') process.exit(3);
    if (command === 'release-first') await locks[0].release();
  });
`;

interface Child {
  tokens: string[];
  say(command: string): void;
  kill(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: Child[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

async function lockingChild(roots: string[]): Promise<Child> {
  const process_ = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, LOCK_MODULE, ROOTS: roots.join('\n') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    process_.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const tokens = await new Promise<string[]>((resolve, reject) => {
    createInterface({ input: process_.stdout! }).once('line', (line) => resolve(line.split(' ').slice(1)));
    void exited.then(({ code }) => reject(new Error(`child ended before taking its locks (code ${code})`)));
  });
  const child: Child = {
    tokens,
    say: (command) => process_.stdin!.write(`${command}\n`),
    kill: () => {
      if (process_.exitCode === null && process_.signalCode === null) process_.kill('SIGKILL');
    },
    exited,
  };
  children.push(child);
  return child;
}

const lockOf = (root: string) => path.join(root, '.dagent', 'lock');

describe('a process that ends without releasing its locks', () => {
  it('removes them when its event loop runs dry', async () => {
    const roots = [await tempRoot('dagent-lock-exit-'), await tempRoot('dagent-lock-exit-')];
    const child = await lockingChild(roots);
    expect((await readLockHolder(roots[0]!))?.token).toBe(child.tokens[0]);
    expect((await readLockHolder(roots[1]!))?.token).toBe(child.tokens[1]);
    child.say('end');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await readLockHolder(roots[0]!)).toBeNull();
    expect(await readLockHolder(roots[1]!)).toBeNull();
  });

  it('removes them on process.exit(), also after releasing one of them itself', async () => {
    const root = await tempRoot('dagent-lock-exit-');
    const child = await lockingChild([root]);
    child.say('exit');
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(await readLockHolder(root)).toBeNull();

    const roots = [await tempRoot('dagent-lock-exit-'), await tempRoot('dagent-lock-exit-')];
    const second = await lockingChild(roots);
    second.say('release-first');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(await readLockHolder(roots[0]!)).toBeNull();
    expect(await readLockHolder(roots[1]!)).toBeNull();
  });

  it('leaves a lock that someone else took over meanwhile', async () => {
    const root = await tempRoot('dagent-lock-exit-');
    const child = await lockingChild([root]);
    const theirs = JSON.parse(await readFile(lockOf(root), 'utf8')) as LockHolder;
    await writeFile(lockOf(root), `${JSON.stringify({ ...theirs, token: 'someone-else' })}\n`);
    child.say('end');
    await child.exited;
    expect((await readLockHolder(root))?.token).toBe('someone-else');
  });

  it('killed with SIGKILL, leaves its lock, which the next process takes over', async () => {
    const root = await tempRoot('dagent-lock-exit-');
    const child = await lockingChild([root]);
    child.kill();
    expect((await child.exited).signal).toBe('SIGKILL');
    const left = await readLockHolder(root);
    expect(left?.token).toBe(child.tokens[0]);
    const lock = await acquireRootLock(root);
    try {
      expect((await readLockHolder(root))?.token).toBe(lock.holder.token);
    } finally {
      await lock.release();
    }
  });
});
