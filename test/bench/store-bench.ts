/**
 * Append latency against session length: our journaled chat (chat.json + chat.log, one record and
 * one fdatasync per append) next to lowdb's stock JSONFile (the whole file rewritten per write),
 * in the same run, plus what group commit does for appends that arrive together.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { checkpointOf, keyOf, recordOf, segmentOf } from '../../src/conformance/fixtures.js';
import type { Message } from '../../src/core/types.js';
import { atomicWriteFile } from '../../src/store/durable-fs.js';
import type { SessionDirectory } from '../../src/store/session-directory.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import type { BenchTable } from './run.js';

const SIZES = [10, 100, 1_000, 10_000];
const TIMED = 200;
const WARMUP = 20;
const CONCURRENT = 200;
const SESSION_ID = 'feature--bench--dev';
const FILLER = 'The quick brown fox reads src/store/journaled-chat-file.ts and proposes a smaller diff. ';

/** A realistic message of about 1 KB once serialised. */
function message(seq: number): Message {
  return {
    id: `msg-${seq.toString(36)}-${(seq * 2654435761).toString(36).slice(-6)}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content:
      seq % 3 === 0
        ? `${FILLER.repeat(9)}#${seq}`
        : [
            { type: 'text', text: FILLER.repeat(6) },
            {
              type: 'tool_use',
              id: `toolu_${seq}`,
              name: 'Read',
              input: { path: `src/module-${seq % 97}.ts`, offset: seq, limit: 200 },
            },
          ],
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1_000).toISOString(),
    tokens: 220 + (seq % 30),
    metadata: { model: 'claude', turn: seq },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

interface Timing {
  p50: number;
  p99: number;
  mean: number;
}

function timingOf(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dagent-bench-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A durable session directory pre-filled with `size` live messages. */
async function openJournaled(
  root: string,
  size: number,
): Promise<{ store: JsonFileSessionStore; dir: SessionDirectory }> {
  const store = await JsonFileSessionStore.open({ root });
  const dir = store.session(SESSION_ID);
  await dir.create({
    schemaVersion: 1,
    id: SESSION_ID,
    key: { type: 'feature', agentType: 'dev', featureId: 'bench' },
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  });
  await dir.load();
  for (let from = 0; from < size; from += 500) {
    await dir.appendMessages(Array.from({ length: Math.min(500, size - from) }, (_, i) => message(from + i)));
  }
  return { store, dir };
}

async function benchJournaled(size: number): Promise<Timing & { folds: number }> {
  return withTempDir(async (root) => {
    const { store, dir } = await openJournaled(root, size);
    try {
      let seq = size;
      for (let i = 0; i < WARMUP; i++) await dir.appendMessages([message(seq++)]);
      const foldsBefore = dir.journal.folds;
      const samples: number[] = [];
      for (let i = 0; i < TIMED; i++) {
        const m = message(seq++);
        const started = performance.now();
        await dir.appendMessages([m]);
        samples.push(performance.now() - started);
      }
      return { ...timingOf(samples), folds: dir.journal.folds - foldsBefore };
    } finally {
      await dir.close();
      await store.close();
    }
  });
}

interface ChatData {
  messages: Message[];
}

async function benchLowdb(size: number): Promise<Timing> {
  return withTempDir(async (root) => {
    const db = new Low<ChatData>(new JSONFile<ChatData>(path.join(root, 'chat.json')), { messages: [] });
    db.data.messages = Array.from({ length: size }, (_, i) => message(i));
    await db.write();
    let seq = size;
    for (let i = 0; i < WARMUP; i++) {
      db.data.messages.push(message(seq++));
      await db.write();
    }
    const samples: number[] = [];
    for (let i = 0; i < TIMED; i++) {
      const m = message(seq++);
      const started = performance.now();
      db.data.messages.push(m);
      await db.write();
      samples.push(performance.now() - started);
    }
    return timingOf(samples);
  });
}

/** 200 appends issued together (not awaited one by one), then 200 awaited one by one. */
async function benchGroupCommit(
  size: number,
): Promise<{ concurrent: number; sequential: number; lowdbConcurrent: number }> {
  const journaled = await withTempDir(async (root) => {
    const { store, dir } = await openJournaled(root, size);
    try {
      let seq = size;
      for (let i = 0; i < WARMUP; i++) await dir.appendMessages([message(seq++)]);
      let started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENT }, () => dir.appendMessages([message(seq++)])));
      const concurrent = performance.now() - started;
      started = performance.now();
      for (let i = 0; i < CONCURRENT; i++) await dir.appendMessages([message(seq++)]);
      return { concurrent, sequential: performance.now() - started };
    } finally {
      await dir.close();
      await store.close();
    }
  });
  const lowdbConcurrent = await withTempDir(async (root) => {
    const db = new Low<ChatData>(new JSONFile<ChatData>(path.join(root, 'chat.json')), { messages: [] });
    db.data.messages = Array.from({ length: size }, (_, i) => message(i));
    await db.write();
    let seq = size;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENT }, () => {
        db.data.messages.push(message(seq++));
        return db.write();
      }),
    );
    return performance.now() - started;
  });
  return { ...journaled, lowdbConcurrent };
}

const ms = (value: number) => Number(value.toFixed(3));

const COMMITS = 30;

/**
 * A compaction's commit on the JSON-file store (segment and version copy, checkpoint.json; the
 * chat fold runs after it, in the background): its time per call, each after 100 appends that it
 * archives, next to its floor, one atomic durable write (temporary file, fdatasync, rename, fsync
 * of the directory) of the same segment's JSON, sampled between the commits.
 */
async function benchCommit(): Promise<{ p50: number; mean: number; floor: number }> {
  return withTempDir(async (root) => {
    const store = await JsonFileSessionStore.open({ root });
    const record = recordOf(keyOf('commit'));
    await store.create(record);
    const times: number[] = [];
    const floors: number[] = [];
    let seq = 0;
    try {
      for (let c = 1; c <= COMMITS; c++) {
        const batch = Array.from({ length: 100 }, () => message(seq++));
        await store.append(record.id, batch);
        const segment = segmentOf(c, c, batch);
        let started = performance.now();
        await atomicWriteFile(path.join(root, 'floor.json'), JSON.stringify(segment), { durable: true });
        floors.push(performance.now() - started);
        started = performance.now();
        await store.commit(record.id, { segment, checkpoint: checkpointOf(c, c, seq - 1, seq) });
        times.push(performance.now() - started);
      }
    } finally {
      await store.close();
    }
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    return { p50: p50(times), mean: times.reduce((a, b) => a + b, 0) / times.length, floor: p50(floors) };
  });
}

/** Runs the store benchmarks; `npm run bench` prints the tables. */
export async function run(): Promise<BenchTable[]> {
  const rows: (string | number)[][] = [];
  for (const size of SIZES) {
    const ours = await benchJournaled(size);
    const lowdb = await benchLowdb(size);
    rows.push([
      size.toLocaleString('en-US'),
      ms(ours.p50),
      ms(ours.p99),
      ms(ours.mean),
      ours.folds,
      ms(lowdb.p50),
      ms(lowdb.p99),
      ms(lowdb.mean),
      Number((lowdb.p50 / ours.p50).toFixed(1)),
    ]);
  }
  const groupSize = 1_000;
  const group = await benchGroupCommit(groupSize);
  const commit = await benchCommit();
  return [
    {
      title: `Append latency (ms) against live messages: ${TIMED} single appends, each awaited, ~1 KB messages`,
      columns: [
        'live messages',
        'journaled p50',
        'journaled p99',
        'journaled mean',
        'folds',
        'lowdb JSONFile p50',
        'lowdb p99',
        'lowdb mean',
        'lowdb/journaled (p50)',
      ],
      rows,
      notes: [
        'journaled: `SessionDirectory.appendMessages` on `JsonFileSessionStore` (chat.json snapshot ' +
          '+ chat.log, CRC32 records), durable: one write + fdatasync per append; "folds" = folds ' +
          'during the timed appends (the log is folded into the snapshot once it outgrows it and 256 KiB).',
        "lowdb JSONFile: lowdb 7's stock adapter, `db.data.messages.push(m); " +
          'await db.write()`: the whole file rewritten per append through ' +
          'steno (temporary file + rename), without fsync, so not durable.',
      ],
    },
    {
      title: `Group commit: ${CONCURRENT} appends at ${groupSize.toLocaleString('en-US')} live messages, total ms`,
      columns: ['how', 'total ms', 'per append ms'],
      rows: [
        ['journaled, issued together (Promise.all)', ms(group.concurrent), ms(group.concurrent / CONCURRENT)],
        ['journaled, awaited one by one', ms(group.sequential), ms(group.sequential / CONCURRENT)],
        [
          'lowdb JSONFile, issued together (steno coalesces)',
          ms(group.lowdbConcurrent),
          ms(group.lowdbConcurrent / CONCURRENT),
        ],
      ],
      notes: [
        'Appends that queue behind a running one share its write and its fdatasync, ' +
          'so a burst costs a few fsyncs, not one per message.',
      ],
    },
    {
      title: `Compaction commit: ${COMMITS} commits of 100 messages (~1 KB each), ms per commit`,
      columns: ['commit p50', 'commit mean', 'floor: one atomic write of the segment (p50)', 'p50 / floor'],
      rows: [
        [ms(commit.p50), ms(commit.mean), ms(commit.floor), Number((commit.p50 / commit.floor).toFixed(1))],
      ],
      notes: [
        "`store.commit` with a segment: the segment, the version copy and checkpoint.json's temporary " +
          'side by side, then checkpoint.json renamed into place (the commit point): two atomic writes ' +
          'one after the other; the floor is one. chat.json without the archived messages is written ' +
          'after the commit resolves, in the background (until round 8 of issue 13 the commit waited).',
      ],
    },
  ];
}
