/**
 * The lock race: 8 real processes race for the root lock, all at once, over and over, on a lock
 * left by a dead process, by a process whose pid was reused, by a dead process with takers that
 * died in the middle of taking it over, on an empty lock file, and as on a filesystem without
 * hard links. Never two holders at once: every winner reports the interval it held the lock on
 * the system-wide monotonic clock, and no two intervals may overlap. Then the same race through
 * the real runtime, each winner appending messages: no acknowledged message may be lost or
 * duplicated.
 *
 * LOCK_RACE_WORKERS, LOCK_RACE_ROUNDS (rounds on a dead holder, a third of them per kind, and
 * rounds on the empty file), LOCK_RACE_RUNTIME_ROUNDS and LOCK_RACE_MESSAGES (per winner) change
 * the figures (defaults 8, 50, 10, 8); the totals are printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { processStartOf, type LockHolder } from '../../src/store/root-lock.js';
import { tempRoot } from '../helpers/temp-root.js';
import type { RaceAnswer, RaceCommand } from './root-lock-race-child.js';

const WORKERS = Math.max(2, Number(process.env.LOCK_RACE_WORKERS ?? 8));
const ROUNDS = Math.max(1, Number(process.env.LOCK_RACE_ROUNDS ?? 50));
const RUNTIME_ROUNDS = Math.max(1, Number(process.env.LOCK_RACE_RUNTIME_ROUNDS ?? 10));
const MESSAGES = Math.max(1, Number(process.env.LOCK_RACE_MESSAGES ?? 8));
const CHILD = fileURLToPath(new URL('./root-lock-race-child.ts', import.meta.url));
const HAS_PROC = existsSync('/proc/self/stat');

/** How the lock looks when a round starts. */
type LockKind = 'dead pid' | 'reused pid' | 'empty file' | 'dead claimants' | 'dead pid, no hard links';

interface Figures {
  rounds: number;
  processes: number;
  winners: number;
  /** Rounds in which two winners held the lock at the same time. */
  roundsWithTwoHolders: number;
  /** Most winners holding the lock at one instant. */
  mostHoldersAtOnce: number;
  /** Answers other than winning or ROOT_LOCKED. */
  errors: string[];
  /** Files `lock*` left in .dagent after a round (claims, candidates, the lock itself). */
  leftovers: string[];
  acknowledged?: number;
  lost?: number;
  duplicated?: number;
}

const figures = new Map<string, Figures>();

class WorkerPool {
  readonly #workers: ChildProcess[] = [];
  readonly #waiting = new Map<number, { answers: RaceAnswer[]; done: (answers: RaceAnswer[]) => void }>();
  #stderr = '';

  async start(count: number): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let worker = 0; worker < count; worker++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: { ...process.env, WORKER: String(worker) },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.#workers.push(child);
      child.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
      ready.push(
        new Promise((resolve, reject) => {
          child.once('exit', (code) =>
            reject(new Error(`worker ${worker} exited (${code}):\n${this.#stderr}`)),
          );
          createInterface({ input: child.stdout! }).on('line', (line) => {
            const answer = JSON.parse(line) as RaceAnswer;
            if (answer.code === 'READY') resolve();
            else this.#receive(answer);
          });
        }),
      );
    }
    await Promise.all(ready);
  }

  #receive(answer: RaceAnswer): void {
    const round = this.#waiting.get(answer.round);
    if (!round) throw new Error(`answer for no round: ${JSON.stringify(answer)}`);
    round.answers.push(answer);
    if (round.answers.length === this.#workers.length) {
      this.#waiting.delete(answer.round);
      round.done(round.answers);
    }
  }

  /** Sends `command` to every worker at once; resolves with all their answers. */
  race(command: RaceCommand): Promise<RaceAnswer[]> {
    const answers = new Promise<RaceAnswer[]>((done) =>
      this.#waiting.set(command.round, { answers: [], done }),
    );
    const line = `${JSON.stringify(command)}\n`;
    for (const child of this.#workers) child.stdin!.write(line);
    return answers;
  }

  async stop(): Promise<void> {
    for (const child of this.#workers) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
}

const pool = new WorkerPool();

beforeAll(() => pool.start(WORKERS), 60_000);
afterAll(async () => {
  await pool.stop();
  console.log(
    `lock race, ${WORKERS} processes:\n` +
      [...figures]
        .map(
          ([name, f]) =>
            `  ${name}: ${JSON.stringify({ ...f, errors: f.errors.length, leftovers: f.leftovers.length })}`,
        )
        .join('\n'),
  );
});

/** A process that lived and is gone, as a real holder would record it (pid and start time). */
async function deadHolder(): Promise<Pick<LockHolder, 'pid' | 'processStart'>> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  const holder = { pid: child.pid!, processStart: processStartOf(child.pid!) };
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return holder;
}

function lockOf(who: Pick<LockHolder, 'pid' | 'processStart'>, kind: string): string {
  const holder: LockHolder = {
    ...who,
    hostname: os.hostname(),
    acquiredAt: new Date(Date.now() - 60_000).toISOString(),
    token: `dead${Math.floor(Math.random() * 1e9)}`,
    description: `left behind (${kind})`,
  };
  return `${JSON.stringify(holder)}\n`;
}

async function prepareLock(root: string, kind: LockKind): Promise<void> {
  const dir = path.join(root, '.dagent');
  const file = path.join(dir, 'lock');
  await mkdir(dir, { recursive: true });
  if (kind === 'empty file') {
    await writeFile(file, '');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(file, anHourAgo, anHourAgo);
    return;
  }
  // A reused pid: this very process, alive, but with another start time than the holder's.
  const who = kind === 'reused pid' ? { pid: process.pid, processStart: '1' } : await deadHolder();
  const lock = lockOf(who, kind);
  await writeFile(file, lock);
  if (kind !== 'dead claimants') return;
  // Two takers that died in the middle of a take-over, one after the other, and one that died
  // before its lock was even linked in: a chain of claims and a candidate, all of dead processes.
  const dead = await deadHolder();
  const first = lockOf(dead, 'claimant');
  const second = lockOf(dead, 'claimant of the claimant');
  const tokenOf = (text: string) => (JSON.parse(text) as LockHolder).token;
  await writeFile(path.join(dir, `lock.${tokenOf(lock)}.next`), first);
  await writeFile(path.join(dir, `lock.${tokenOf(first)}.next`), second);
  await writeFile(path.join(dir, `lock.${tokenOf(second)}x.candidate`), second);
}

/** Records one round's answers into `f`. */
function tally(f: Figures, answers: RaceAnswer[], kind: string): RaceAnswer[] {
  f.rounds++;
  f.processes += answers.length;
  const winners = answers.filter((a) => a.won);
  f.winners += winners.length;
  for (const a of answers) {
    if (!a.won && a.code !== 'ROOT_LOCKED')
      f.errors.push(`${kind}: worker ${a.worker}: ${a.code} ${a.message}`);
    if (a.won && a.message) f.errors.push(`${kind}: winner ${a.worker}: ${a.message}`);
  }
  if (winners.length === 0) f.errors.push(`${kind} round ${answers[0]?.round}: nobody got the lock`);
  // Most intervals containing one instant: sweep over the interval ends.
  const events = winners.flatMap((w) => [
    { at: BigInt(w.from!), delta: 1 },
    { at: BigInt(w.to!), delta: -1 },
  ]);
  events.sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
  let holding = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (holding += e.delta));
  f.mostHoldersAtOnce = Math.max(f.mostHoldersAtOnce, most);
  if (most > 1) f.roundsWithTwoHolders++;
  return winners;
}

async function leftovers(root: string): Promise<string[]> {
  const entries = await readdir(path.join(root, '.dagent'));
  return entries.filter((name) => name.startsWith('lock'));
}

function freshFigures(name: string): Figures {
  const f: Figures = {
    rounds: 0,
    processes: 0,
    winners: 0,
    roundsWithTwoHolders: 0,
    mostHoldersAtOnce: 0,
    errors: [],
    leftovers: [],
  };
  figures.set(name, f);
  return f;
}

let round = 0;

describe(`${WORKERS} processes racing for a lock left behind`, () => {
  // Rounds per kind: at least ROUNDS on a dead holder (of three kinds) and on the empty file.
  const third = Math.ceil(ROUNDS / 3);
  const kinds: [LockKind, number][] = [
    ['dead pid', third],
    ...(HAS_PROC ? [['reused pid', third] as [LockKind, number]] : []),
    ['dead claimants', third],
    ['empty file', ROUNDS],
    ['dead pid, no hard links', third],
  ];
  for (const [kind, rounds] of kinds) {
    it(`${rounds} rounds on a lock of a ${kind}: never two holders, nothing left behind`, async () => {
      const f = freshFigures(kind);
      const root = await tempRoot('dagent-lock-race-');
      const hardLinks = kind === 'dead pid, no hard links' ? { hardLinks: false } : {};
      for (let i = 0; i < rounds; i++) {
        await prepareLock(root, kind);
        tally(f, await pool.race({ op: 'lock', root, round: ++round, holdMs: 25, ...hardLinks }), kind);
        f.leftovers.push(...(await leftovers(root)));
      }
      expect(f.errors).toEqual([]);
      expect({
        roundsWithTwoHolders: f.roundsWithTwoHolders,
        mostHoldersAtOnce: f.mostHoldersAtOnce,
      }).toEqual({
        roundsWithTwoHolders: 0,
        mostHoldersAtOnce: 1,
      });
      expect(f.leftovers).toEqual([]);
    }, 60_000);
  }
});

describe(`${WORKERS} processes opening the runtime on a dead process's root`, () => {
  it(`${RUNTIME_ROUNDS} rounds, each winner appending: no acknowledged message lost`, async () => {
    const f = freshFigures('runtime, dead pid');
    const root = await tempRoot('dagent-lock-race-');
    const key = { type: 'feature', agentType: 'dev', featureId: 'race' } as const;
    const setup = await createSessionRuntime({ root });
    const { id: sessionId } = await setup.createSession(key);
    await setup.close();

    const acked: string[] = [];
    for (let i = 0; i < RUNTIME_ROUNDS; i++) {
      await prepareLock(root, 'dead pid');
      const winners = tally(
        f,
        await pool.race({ op: 'runtime', root, round: ++round, sessionId, messages: MESSAGES }),
        'runtime',
      );
      for (const w of winners) acked.push(...w.acked!);
    }

    const reader = await createSessionRuntime({ root, readOnly: true });
    const stored = (await reader.getHistory(sessionId)).map((m) => m.content);
    await reader.close();
    const count = new Map<unknown, number>();
    for (const content of stored) count.set(content, (count.get(content) ?? 0) + 1);
    f.acknowledged = acked.length;
    f.lost = acked.filter((text) => !count.has(text)).length;
    f.duplicated = acked.filter((text) => (count.get(text) ?? 0) > 1).length;

    expect(f.errors).toEqual([]);
    expect(f.roundsWithTwoHolders).toBe(0);
    expect(f.acknowledged).toBeGreaterThanOrEqual(RUNTIME_ROUNDS * MESSAGES);
    expect({ lost: f.lost, duplicated: f.duplicated }).toEqual({ lost: 0, duplicated: 0 });
  }, 120_000);
});
