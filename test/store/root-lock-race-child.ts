/**
 * A worker of test/store/root-lock-race.test.ts. It starts once and then races for the root lock
 * whenever the parent says so, one JSON command per stdin line, one JSON answer per stdout line:
 *
 * - `{"op":"lock","root","round","holdMs","hardLinks"?}`: `acquireRootLock` (`hardLinks: false`:
 *   as on a filesystem without hard links); a winner holds the lock for
 *   `holdMs` and answers the interval it held it on the system-wide monotonic clock
 *   (`process.hrtime`, CLOCK_MONOTONIC on Linux), measured inside the real holding time, so that
 *   two intervals that overlap prove two holders at once;
 * - `{"op":"runtime","root","round","sessionId","messages"}`: the same through the real runtime
 *   (`createSessionRuntime`); a winner appends `messages` messages and answers the texts that were
 *   acknowledged (`addMessage` resolved), then closes the runtime.
 *
 * Everyone else answers the error's code (`ROOT_LOCKED` when refused). Started once per test, so
 * that each round costs an acquire, not a process start (tsx and the runtime take about a second).
 *
 * Run: `node --import tsx test/store/root-lock-race-child.ts` with WORKER set to its number.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { acquireRootLock } from '../../src/store/root-lock.js';

/** A command of the parent. */
export type RaceCommand =
  | { op: 'lock'; root: string; round: number; holdMs: number; hardLinks?: boolean }
  | { op: 'runtime'; root: string; round: number; sessionId: string; messages: number };

/** A worker's answer to one command. */
export interface RaceAnswer {
  worker: number;
  round: number;
  won: boolean;
  /** Held from..to, nanoseconds of CLOCK_MONOTONIC, as decimal strings. */
  from?: string;
  to?: string;
  /** Texts of the messages whose `addMessage` resolved. */
  acked?: string[];
  code?: string;
  message?: string;
}

const worker = Number(process.env.WORKER);

async function raceForLock(command: Extract<RaceCommand, { op: 'lock' }>): Promise<RaceAnswer> {
  const options = command.hardLinks === undefined ? {} : { hardLinks: command.hardLinks };
  const lock = await acquireRootLock(command.root, `race worker ${worker}`, options);
  const from = process.hrtime.bigint();
  await sleep(command.holdMs);
  const to = process.hrtime.bigint();
  await lock.release();
  return { worker, round: command.round, won: true, from: String(from), to: String(to) };
}

async function raceForRuntime(command: Extract<RaceCommand, { op: 'runtime' }>): Promise<RaceAnswer> {
  const runtime = await createSessionRuntime({ root: command.root });
  const from = process.hrtime.bigint();
  const acked: string[] = [];
  let failure: string | undefined;
  try {
    for (let i = 0; i < command.messages; i++) {
      const text = `round ${command.round} worker ${worker} message ${i}`;
      await runtime.addMessage(command.sessionId, { role: 'user', content: text });
      acked.push(text);
    }
  } catch (error) {
    failure = String(error); // what was acknowledged before still counts
  }
  const to = process.hrtime.bigint();
  await runtime.close().catch((error: unknown) => (failure ??= String(error)));
  const answer: RaceAnswer = {
    worker,
    round: command.round,
    won: true,
    from: String(from),
    to: String(to),
    acked,
  };
  return failure === undefined ? answer : { ...answer, message: failure };
}

async function answer(command: RaceCommand): Promise<void> {
  let result: RaceAnswer;
  try {
    result = command.op === 'lock' ? await raceForLock(command) : await raceForRuntime(command);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    result = { worker, round: command.round, won: false, code: code ?? 'THROWN', message: String(message) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => void answer(JSON.parse(line) as RaceCommand));
process.stdout.write(`${JSON.stringify({ worker, round: -1, won: false, code: 'READY' })}\n`);
