/**
 * What the crash tests share: start crash-child.ts, kill it at a moment, and check what a restart
 * finds (see crash.test.ts for the list of checks).
 */
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import type { ArchiveSegment, Message } from '../../src/core/types.js';
import { replayLog } from '../../src/store/journaled-chat-file.js';
import type { LockHolder } from '../../src/store/root-lock.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { CRASH_FOLD_MIN_BYTES, CRASH_SESSION_ID, messageFor } from './crash-child.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** What one child reported before it died. */
export interface ChildReport {
  startSeq: number;
  acked: [number, number][];
  maxBegun: number;
  compactions: number;
  killedAfterMs: number;
}

/** Figures over all runs, printed at the end. */
export interface Totals {
  runs: number;
  ackedMessages: number;
  messagesChecked: number;
  unacknowledgedFound: number;
  tornRecords: number;
  repairs: Record<string, number>;
  compactions: number;
  leftoverTempFiles: number;
}

/** A fresh set of figures. */
export function newTotals(): Totals {
  return {
    runs: 0,
    ackedMessages: 0,
    messagesChecked: 0,
    unacknowledgedFound: 0,
    tornRecords: 0,
    repairs: {},
    compactions: 0,
    leftoverTempFiles: 0,
  };
}

/** Options of {@link crashChild}. */
export interface CrashOptions {
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Called once the child is ready (it then runs for `delayMs` before the kill). */
  onReady?: () => void;
}

/** Starts the child, kills it `delayMs` after it is ready, and returns what it said. */
export function crashChild(
  root: string,
  seed: number,
  delayMs: number,
  options: CrashOptions = {},
): Promise<ChildReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...(options.env ?? process.env), ROOT: root, SEED: String(seed) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const report: ChildReport = {
    startSeq: -1,
    acked: [],
    maxBegun: -1,
    compactions: 0,
    killedAfterMs: delayMs,
  };
  let pending = '';
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const onLine = (line: string) => {
    const [kind, a, b] = line.split(' ');
    if (kind === 'ready') {
      report.startSeq = Number(a);
      timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      options.onReady?.();
    } else if (kind === 'begin') {
      report.maxBegun = Math.max(report.maxBegun, Number(a));
    } else if (kind === 'ack') {
      report.acked.push([Number(a), Number(b)]);
    } else if (kind === 'compact') {
      report.compactions++;
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach(onLine);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close', not 'exit': every line the child wrote has been read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && report.startSeq >= 0) resolve(report);
      else reject(new Error(`crash-child ended by itself (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}

/** Every file of the session parses; chat.log holds at most a torn, unacknowledged tail. */
async function checkFilesParse(sessionDir: string): Promise<{ torn: number; temps: number }> {
  let torn = 0;
  let temps = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        expect(['archive', 'checkpoints']).toContain(path.relative(sessionDir, file));
        await walk(file);
      } else if (entry.name.startsWith('.') && entry.name.endsWith('.tmp')) {
        temps++; // the temporary file of an atomic write the kill interrupted: never read
      } else if (entry.name === 'chat.log') {
        const replay = replayLog(await readFile(file));
        expect(replay.damagedAt, `${file} is damaged`).toBeNull();
        torn += replay.torn;
      } else {
        expect(entry.name, `unexpected file ${file}`).toMatch(
          /^(session|chat|checkpoint|context|agent-description|counts|\d{6})\.json$/,
        );
        const text = await readFile(file, 'utf8');
        expect(() => JSON.parse(text) as unknown, `${file} does not parse`).not.toThrow();
      }
    }
  };
  await walk(sessionDir);
  return { torn, temps };
}

/** Reopens the root after a kill and checks everything, adding to `totals`; returns the last seq on disk. */
export async function verifyAfterKill(
  totals: Totals,
  root: string,
  report: ChildReport,
  maxAckedBefore: number,
  context: string,
): Promise<{ lastSeq: number; maxAcked: number }> {
  const sessionDir = path.join(root, '.dagent', 'sessions', CRASH_SESSION_ID);
  const files = await checkFilesParse(sessionDir);
  const deadLock = JSON.parse(await readFile(path.join(root, '.dagent', 'lock'), 'utf8')) as LockHolder;
  expect(deadLock.description).toBe('crash-child');

  // The dead child's lock is taken over.
  const store = await JsonFileSessionStore.open({ root, foldMinBytes: CRASH_FOLD_MIN_BYTES });
  const dir = store.session(CRASH_SESSION_ID);
  try {
    const lock = JSON.parse(await readFile(path.join(root, '.dagent', 'lock'), 'utf8')) as LockHolder;
    expect(lock.pid).toBe(process.pid);

    const loaded = await dir.load();
    expect(loaded.tornRecordsDropped, context).toBe(files.torn);
    // Temporary files the kill left behind are removed by the load that takes over.
    expect((await checkFilesParse(sessionDir)).temps, `${context}: temporary files left after load`).toBe(0);
    const segments: ArchiveSegment[] = [];
    for await (const segment of dir.readSegments()) segments.push(segment);
    const all: Message[] = [...segments.flatMap((s) => s.messages), ...loaded.messages];

    // Archive + live: seqs 0..K, each exactly once, in order, with the content that was sent.
    const lastSeq = all.length - 1;
    all.forEach((m, i) => {
      if (m.seq !== i) expect.fail(`${context}: position ${i} holds seq ${m.seq}`);
      if (!isDeepStrictEqual(m, messageFor(m.seq)))
        expect(m, `${context}: content of seq ${m.seq}`).toEqual(messageFor(m.seq));
    });
    const maxAcked = Math.max(maxAckedBefore, ...report.acked.map(([, last]) => last));
    for (const [first, last] of report.acked)
      expect(
        last,
        `${context}: acknowledged ${first}..${last} but only 0..${lastSeq} on disk`,
      ).toBeLessThanOrEqual(lastSeq);
    expect(lastSeq, `${context}: every acknowledged message`).toBeGreaterThanOrEqual(maxAcked);
    // Nothing past the last append begun (plus what the previous verification appended).
    expect(lastSeq, `${context}: nothing beyond what was written`).toBeLessThanOrEqual(
      Math.max(report.maxBegun, report.startSeq - 1),
    );

    // The archive agrees with the checkpoint, the commit point.
    segments.forEach((s, i) => {
      expect(s.segment).toBe(i + 1);
      expect([s.firstSeq, s.lastSeq]).toEqual([s.messages[0]!.seq, s.messages.at(-1)!.seq]);
    });
    expect(loaded.checkpoint?.compactionInfo.segment ?? 0).toBe(segments.length);
    expect(loaded.archivedThroughSeq).toBe(segments.at(-1)?.lastSeq ?? -1);

    for (const repair of loaded.repairs) {
      const kind = repair.startsWith('removed archive segment')
        ? 'orphan segment removed'
        : 'archived messages dropped from chat';
      totals.repairs[kind] = (totals.repairs[kind] ?? 0) + 1;
    }
    totals.runs++;
    totals.ackedMessages += report.acked.reduce((n, [first, last]) => n + last - first + 1, 0);
    totals.messagesChecked += all.length;
    totals.unacknowledgedFound += lastSeq - maxAcked;
    totals.tornRecords += files.torn;
    totals.compactions += report.compactions;
    totals.leftoverTempFiles += files.temps;

    // The session goes on: an append after the recovery lands where it should (a torn tail is
    // cut first) and reads back after another restart.
    await dir.appendMessages([messageFor(lastSeq + 1)]);
    await dir.close();
    await store.close();
    const again = await JsonFileSessionStore.open({ root, readOnly: true });
    const reread = await again.session(CRASH_SESSION_ID).load();
    expect(reread.tornRecordsDropped).toBe(0);
    expect(reread.repairs).toEqual([]);
    expect(reread.messages.at(-1)).toEqual(messageFor(lastSeq + 1));
    await again.close();
    return { lastSeq: lastSeq + 1, maxAcked: lastSeq + 1 };
  } finally {
    await dir.close();
    await store.close();
  }
}
