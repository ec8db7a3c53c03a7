/**
 * Issue 13's table (`npm run bench -- lean`): the append path, the store layer, group commit,
 * many sessions at once, a replay of the real transcripts, the first read of a long history,
 * `dagent-sessions list` and the stall of a fold, each next to the physical floor (one `write` +
 * `fdatasync` of the same bytes) and to the peers a user would pick instead, in the same run:
 * better-sqlite3 in WAL mode with `synchronous=FULL`, and plain JSONL with one `fdatasync` per
 * append. Figures that need a fresh process (first read, peak memory, stalls) run in
 * `lean-core-child.ts`. The append, burst, 100 x 20 and replay rows are followed by the same
 * figure with the runtime's option `syncAppends: 'calling-thread'` (the fdatasync of a small append
 * on the main thread), measured in the same run right after the default.
 *
 * It imports only what older trees have too, so that it can be copied into a worktree of an older
 * tag and run there: that is how the "before" figures of a change are taken.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import {
  HERE,
  PROJECT,
  openCreateFloor,
  openFloor,
  keyOf,
  openJsonl,
  openSqlite,
  openStoreLayer,
  percentile,
  realText,
  recordOf,
  removeDir,
  storedMessage,
  syncDir,
  tempDir,
  textsOf,
} from './lean-core-shared.js';
import type { BenchTable } from './run.js';

const RUNS = 150;
const WARMUP = 20;
const HISTORY_MESSAGES = 15_000;
const FOLD_MB = 95;

type Row = (string | number)[];

/** The option of the extra rows (older trees ignore it: there they measure the default again). */
const HERE_OPTION = { syncAppends: 'calling-thread' } as const;
/**
 * The default's figure and the option's, in the order measured: LEAN_HERE_FIRST=1 measures the
 * option first, so that runs can alternate which of the two meets code V8 has not optimised yet.
 */
async function bothOf<T>(measure: (name: string, options: { syncAppends?: 'calling-thread' }) => Promise<T>) {
  if (process.env.LEAN_HERE_FIRST !== '1')
    return { api: await measure('runtime', {}), apiHere: await measure('runtime-here', HERE_OPTION) };
  const apiHere = await measure('runtime-here', HERE_OPTION);
  return { api: await measure('runtime', {}), apiHere };
}
const HERE_LABEL = ", syncAppends 'calling-thread'";
/** A row of the option's figure alone, in the public API's column. */
const hereRow = (label: string, value: string, goal: string): Row => [
  `${label}${HERE_LABEL}`,
  value,
  '',
  '',
  '',
  '',
  goal,
];

/** A runtime as the public rows use it: the default estimator counts, a limit no run reaches. */
const publicRuntime = (root: string, options: { syncAppends?: 'calling-thread' }) =>
  createSessionRuntime({
    root,
    compactor: new OfflineCompactor({ estimator: createTokenEstimator({ mode: 'approximate' }) }),
    limits: { maxTokens: 50_000_000 },
    ...options,
  });

const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a');
const times = (value: number, floor: number) =>
  Number.isFinite(value) && floor > 0 ? `${(value / floor).toFixed(1)}x` : 'n/a';
const cell = (value: number, floor: number) => `${ms(value)} (${times(value, floor)})`;

/** Runs the child script in a fresh Node process and returns the JSON it printed. */
function child(mode: string, ...args: string[]): Record<string, number | string | boolean> {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(HERE, 'lean-core-child.ts'), mode, ...args],
    { cwd: PROJECT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = out.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as Record<string, number | string | boolean>;
}

/** p50 of `fn(i)` over RUNS calls after WARMUP, and of the floor sampled between the calls. */
async function p50(
  dir: string,
  bytes: number,
  fn: (i: number) => Promise<unknown>,
  settle: () => Promise<unknown> = async () => undefined,
): Promise<{ value: number; floor: number }> {
  const floor = await openFloor(dir, bytes);
  try {
    for (let i = 0; i < WARMUP; i++) await fn(i);
    const samples: number[] = [];
    for (let i = WARMUP; i < WARMUP + RUNS; i++) {
      // What a call left running (a count on the worker, the actor's bookkeeping after the reply)
      // ends before the floor is sampled, not during the sample: it would inflate the floor.
      await settle();
      await floor.sample();
      const t0 = performance.now();
      await fn(i);
      samples.push(performance.now() - t0);
    }
    return { value: percentile(samples, 0.5), floor: floor.p50() };
  } finally {
    await floor.close();
  }
}

const cellOf = (m: { value: number; floor: number }) => cell(m.value, m.floor);

async function appendRows(source: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const bytes of [1024, 20 * 1024]) {
    const texts = textsOf(source, bytes, WARMUP + RUNS);
    const dir = await tempDir();
    try {
      const size = Buffer.byteLength(JSON.stringify(storedMessage(0, texts[0]!)));
      // The public API, as a host calls it: default estimator, a limit no run reaches.
      const apiOf = async (name: string, options: { syncAppends?: 'calling-thread' }) => {
        const runtime = await publicRuntime(path.join(dir, name), options);
        const session = await runtime.createSession(keyOf(`append${bytes}`));
        const measured = await p50(
          dir,
          size,
          (i) => runtime.addMessage(session.id, { role: 'user', content: texts[i]! }),
          // A read waits for the append's exact count and for the actor to have taken it.
          () => runtime.estimateSize(session.id),
        );
        await runtime.close();
        return measured;
      };
      const { api, apiHere } = await bothOf(apiOf);
      const store = await openStoreLayer(path.join(dir, 'store'));
      const id = await store.create(keyOf(`store${bytes}`));
      const layer = await p50(dir, size, (i) => store.append(id, [storedMessage(i, texts[i]!)]));
      await store.close();
      const db = openSqlite(path.join(dir, 'peer.sqlite'));
      const insert = db?.prepare('INSERT INTO messages (session, seq, body) VALUES (?, ?, ?)');
      const sqlite = insert
        ? await p50(dir, size, async (i) => insert.run('s', i, JSON.stringify(storedMessage(i, texts[i]!))))
        : { value: NaN, floor: NaN };
      db?.close();
      const jsonl = await openJsonl(path.join(dir, 'peer.jsonl'));
      const lines = await p50(dir, size, (i) => jsonl.append([JSON.stringify(storedMessage(i, texts[i]!))]));
      await jsonl.close();
      rows.push([
        `addMessage p50, ${bytes / 1024} KB message`,
        cellOf(api),
        cellOf(layer),
        cellOf(sqlite),
        cellOf(lines),
        `${ms(percentile([api.floor, layer.floor, sqlite.floor, lines.floor].filter(Number.isFinite), 0.5))} ` +
          `(${size} B; each ratio against the floor sampled between its own runs)`,
        bytes === 1024 ? '<= 2x' : '<= 3x',
      ]);
      rows.push(
        hereRow(
          `addMessage p50, ${bytes / 1024} KB message`,
          cellOf(apiHere),
          bytes === 1024 ? '<= 2x' : '<= 3x',
        ),
      );
    } finally {
      await removeDir(dir);
    }
  }
  return rows;
}

async function burstRows(source: string): Promise<Row[]> {
  const COUNT = 200;
  // Twenty rounds: the p50 of five moved by 2x between runs of one tree (docs/architecture.md, "A
  // burst's main thread, again"); the first five's p50 is shown beside it, the figure of before.
  const ROUNDS = 20;
  const FIRST = 5;
  // Texts never appended before in this process, a new set each round (and one for the warm-up):
  // a text seen before has its count cached, and no conversation repeats its messages.
  const all = textsOf(source, 1024, COUNT * (ROUNDS + 1));
  const textsFor = (round: number) => all.slice(round * COUNT, (round + 1) * COUNT);
  const dir = await tempDir();
  try {
    const batch = textsFor(0)
      .map((t, i) => JSON.stringify(storedMessage(i, t)))
      .join('\n');
    const floorFile = await openFloor(dir, Buffer.byteLength(batch));
    // `prepare` runs before the clock starts: the session is created there, so that the row times
    // the 200 appends alone, as it does for the peers (whose table or file exists already).
    // `settle` runs after it stops: the counts still on their way are not the next round's load.
    const median = async <T>(
      prepare: (round: number) => Promise<T>,
      fn: (round: number, on: T) => Promise<void>,
      settle: (on: T) => Promise<unknown> = async () => undefined,
    ) => {
      const samples: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const on = await prepare(round);
        for (let i = 0; i < 3; i++) await floorFile.sample();
        const t0 = performance.now();
        await fn(round, on);
        samples.push(performance.now() - t0);
        await settle(on);
      }
      return { p50: percentile(samples, 0.5), first: percentile(samples.slice(0, FIRST), 0.5) };
    };
    const apiOf = async (name: string, options: { syncAppends?: 'calling-thread' }) => {
      const runtime = await publicRuntime(path.join(dir, name), options);
      // The counting worker is loaded and has answered before the clock starts (a read waits for
      // exact counts): this is the append path, not start-up.
      const warm = await runtime.createSession(keyOf('burst-warm'));
      await Promise.all(
        textsFor(ROUNDS).map((t) => runtime.addMessage(warm.id, { role: 'user', content: t })),
      );
      await runtime.estimateSize(warm.id);
      const measured = await median(
        async (round) => (await runtime.createSession(keyOf(`burst${round}`))).id,
        async (round, id) => {
          await Promise.all(textsFor(round).map((t) => runtime.addMessage(id, { role: 'user', content: t })));
        },
        (id) => runtime.estimateSize(id),
      );
      await runtime.close();
      return measured;
    };
    const { api, apiHere } = await bothOf(apiOf);
    const store = await openStoreLayer(path.join(dir, 'store'));
    const layer = await median(
      (round) => store.create(keyOf(`burst${round}`)),
      async (round, id) => {
        await Promise.all(textsFor(round).map((t, i) => store.append(id, [storedMessage(i, t)])));
      },
    );
    await store.close();
    const db = openSqlite(path.join(dir, 'peer.sqlite'));
    const insert = db?.prepare('INSERT INTO messages (session, seq, body) VALUES (?, ?, ?)');
    const sqlite =
      db && insert
        ? await median(
            async () => undefined,
            async (round) => {
              db.transaction(() => {
                for (const [i, t] of textsFor(round).entries())
                  insert.run(`s${round}`, i, JSON.stringify(storedMessage(i, t)));
              })();
            },
          )
        : { p50: NaN, first: NaN };
    db?.close();
    const jsonl = await median(
      (round) => openJsonl(path.join(dir, `burst${round}.jsonl`)),
      async (round, log) => {
        await Promise.all(textsFor(round).map((t, i) => log.append([JSON.stringify(storedMessage(i, t))])));
        await log.close();
      },
    );
    const floor = floorFile.p50();
    await floorFile.close();
    // The p50 of the rounds, and of the first five beside it (code V8 has not yet optimised).
    const burstCell = (m: { p50: number; first: number }) =>
      `${cell(m.p50, floor)}; first ${FIRST}: ${times(m.first, floor)}`;
    const label =
      `${COUNT} appends issued at once to one session ` +
      `(1 KB; created before the clock starts; p50 of ${ROUNDS} rounds)`;
    return [
      [
        label,
        burstCell(api),
        burstCell(layer),
        `${burstCell(sqlite)}, one transaction`,
        `${burstCell(jsonl)}, one fdatasync each`,
        `${ms(floor)} (all ${COUNT} in one write)`,
        '<= 5x',
      ],
      hereRow(label, burstCell(apiHere), '<= 5x'),
    ];
  } finally {
    await removeDir(dir);
  }
}

/**
 * createSession of an empty session, apart from the appends: the public call and the store's
 * `create`, next to the floor of a new durable file (write + fdatasync, then its directory's
 * fsync) and to what the peers do for a new session: SQLite inserts a session row (its own
 * transaction), JSONL opens a new file and fsyncs its directory.
 */
async function createRow(): Promise<Row> {
  const COUNT = 60;
  const dir = await tempDir();
  try {
    const recordBytes = Buffer.byteLength(JSON.stringify(recordOf(keyOf('create-0'))));
    const floorDir = path.join(dir, 'floor');
    await mkdir(floorDir);
    const floor = await openCreateFloor(floorDir, recordBytes);
    const median = async (fn: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < WARMUP; i++) await fn(-1 - i);
      const samples: number[] = [];
      for (let i = 0; i < COUNT; i++) {
        await floor.sample();
        const t0 = performance.now();
        await fn(i);
        samples.push(performance.now() - t0);
      }
      return percentile(samples, 0.5);
    };
    const runtime = await createSessionRuntime({
      root: path.join(dir, 'runtime'),
      compactor: new OfflineCompactor({ estimator: createTokenEstimator({ mode: 'approximate' }) }),
      limits: { maxTokens: 50_000_000 },
    });
    const api = await median((i) => runtime.createSession(keyOf(`create${i}`)));
    await runtime.close();
    const store = await openStoreLayer(path.join(dir, 'store'));
    const layer = await median((i) => store.create(keyOf(`create${i}`)));
    await store.close();
    const db = openSqlite(path.join(dir, 'peer.sqlite'));
    db?.exec('CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db?.prepare('INSERT INTO sessions (id, body) VALUES (?, ?)');
    const sqlite = insert
      ? await median(async (i) => insert.run(`s${i}`, JSON.stringify(recordOf(keyOf(`create${i}`)))))
      : NaN;
    db?.close();
    const jsonlDir = path.join(dir, 'jsonl');
    await mkdir(jsonlDir);
    const jsonl = await median(async (i) => {
      const log = await openJsonl(path.join(jsonlDir, `create${i}.jsonl`));
      await syncDir(jsonlDir);
      await log.close();
    });
    const base = floor.p50();
    return [
      'createSession p50, empty session',
      cell(api, base),
      cell(layer, base),
      `${cell(sqlite, base)}, INSERT of a session row`,
      `${cell(jsonl, base)}, open a new file + fsync of its directory`,
      `${ms(base)} (a new ${recordBytes} B file: write + fdatasync, then fsync of its directory)`,
      '',
    ];
  } finally {
    await removeDir(dir);
  }
}

/**
 * One cold round (the first in the process: code not yet optimised, as a host's first burst), then
 * `MANY_ROUNDS` more, each on fresh sessions or files: the cold round's time and the others' median.
 */
const MANY_ROUNDS = 3;
async function coldAndWarm(
  round: (index: number) => Promise<number>,
): Promise<{ cold: number; warm: number }> {
  const cold = await round(0);
  const warm: number[] = [];
  for (let index = 1; index <= MANY_ROUNDS; index++) warm.push(await round(index));
  return { cold, warm: percentile(warm, 0.5) };
}

async function manySessionsRows(source: string): Promise<Row[]> {
  const SESSIONS = 100;
  const EACH = 20;
  const count = SESSIONS * EACH;
  // Each session's texts are its own and new to the process, in every round (one more text per
  // round for the warm-up): a text seen before has its count cached, a text shared by sessions is
  // counted once for all, and no conversation repeats another's messages.
  const all = textsOf(source, 1024, (count + 1) * (MANY_ROUNDS + 1));
  const textsFor = (index: number, s: number) =>
    all.slice(index * (count + 1) + s * EACH, index * (count + 1) + (s + 1) * EACH);
  const warmTextOf = (index: number) => all[index * (count + 1) + count]!;
  const dir = await tempDir();
  const rate = (elapsed: number) => `${Math.round((count / elapsed) * 1000).toLocaleString('en')}/s`;
  const cellOf = (m: { cold: number; warm: number }) => `${rate(m.warm)} (first round ${rate(m.cold)})`;
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  try {
    // A runtime per round, so that no round's sessions are stopped for maxActive during another's.
    const apiOf = (name: string, options: { syncAppends?: 'calling-thread' }) =>
      coldAndWarm(async (index) => {
        const runtime = await createSessionRuntime({
          root: path.join(dir, `${name}${index}`),
          compactor: new OfflineCompactor({ estimator: createTokenEstimator({ mode: 'approximate' }) }),
          limits: { maxTokens: 50_000_000 },
          ...options,
        });
        const ids: string[] = [];
        for (let s = 0; s < SESSIONS; s++) ids.push((await runtime.createSession(keyOf(`many${s}`))).id);
        // The counting worker has answered before the clock starts (a read waits for exact counts).
        await runtime.addMessage(ids[0]!, { role: 'user', content: warmTextOf(index) });
        await runtime.estimateSize(ids[0]!);
        const elapsed = await timed(() =>
          Promise.all(
            ids.flatMap((id, s) =>
              textsFor(index, s).map((t) => runtime.addMessage(id, { role: 'user', content: t })),
            ),
          ),
        );
        await runtime.close();
        return elapsed;
      });
    const { api, apiHere } = await bothOf(apiOf);

    const layer = await coldAndWarm(async (index) => {
      const store = await openStoreLayer(path.join(dir, `store${index}`));
      const ids: string[] = [];
      for (let s = 0; s < SESSIONS; s++) ids.push(await store.create(keyOf(`many${s}`)));
      const elapsed = await timed(() =>
        Promise.all(
          ids.flatMap((id, s) => textsFor(index, s).map((t, i) => store.append(id, [storedMessage(i, t)]))),
        ),
      );
      await store.close();
      return elapsed;
    });

    const db = openSqlite(path.join(dir, 'peer.sqlite'));
    const insert = db?.prepare('INSERT INTO messages (session, seq, body) VALUES (?, ?, ?)');
    const sqlite =
      db && insert
        ? await coldAndWarm(async (index) =>
            // better-sqlite3 is synchronous: "at once" is one after the other, each its own transaction.
            timed(async () => {
              for (let s = 0; s < SESSIONS; s++)
                for (const [i, t] of textsFor(index, s).entries())
                  insert.run(`r${index}s${s}`, i, JSON.stringify(storedMessage(i, t)));
            }),
          )
        : { cold: NaN, warm: NaN };
    db?.close();

    const jsonl = await coldAndWarm(async (index) => {
      const logs = await Promise.all(
        Array.from({ length: SESSIONS }, (_, s) => openJsonl(path.join(dir, `many${index}-${s}.jsonl`))),
      );
      const elapsed = await timed(() =>
        Promise.all(
          logs.flatMap((log, s) =>
            textsFor(index, s).map((t, i) => log.append([JSON.stringify(storedMessage(i, t))])),
          ),
        ),
      );
      await Promise.all(logs.map((log) => log.close()));
      return elapsed;
    });
    const label =
      `${SESSIONS} sessions x ${EACH} appends, all at once ` +
      `(appends/s; median of ${MANY_ROUNDS} rounds after a first)`;
    return [
      [
        label,
        cellOf(api),
        cellOf(layer),
        `${cellOf(sqlite)}, one transaction each`,
        cellOf(jsonl),
        '',
        ">= JSONL's rate",
      ],
      hereRow(
        label,
        `${cellOf(apiHere)} (${(jsonl.warm / apiHere.warm).toFixed(2)} of JSONL's rate)`,
        ">= JSONL's rate",
      ),
    ];
  } finally {
    await removeDir(dir);
  }
}

/** A limit no replay reaches: the replay without compactions. */
const FLAT_MAX_TOKENS = 50_000_000;

async function replayRows(): Promise<Row[]> {
  const dir = await tempDir();
  try {
    const { api: ours, apiHere: here } = await bothOf(async (name, options) =>
      child('replay', path.join(dir, name), options.syncAppends ?? ''),
    );
    const peer = child('replay-jsonl', dir);
    // The same replay at a limit it never reaches: no compaction, the peer's work and the reads.
    const flat = child('replay', path.join(dir, 'flat'), '', String(FLAT_MAX_TOKENS));
    // CPU beside the time: under load the time measures the machine as much as the code.
    const cpu = (r: typeof ours) =>
      `CPU ${(Number(r.cpuMs) / 1000).toFixed(1)} s, main thread ${(Number(r.mainCpuMs) / 1000).toFixed(1)} s`;
    const figures = (r: typeof ours) =>
      `${(Number(r.ms) / 1000).toFixed(1)} s, ${String(r.rssMiB)} MiB ` +
      `(${(Number(r.ms) / Number(peer.ms)).toFixed(2)}x JSONL); ` +
      `${cpu(r)}; ${String(r.compactions)} compactions, ${String(r.over)} over the limit, ` +
      `intact: ${String(r.intact)}`;
    const label = `replay of ${String(ours.messages)} real messages at a 20k limit (time, peak RSS, CPU)`;
    return [
      [
        label,
        figures(ours),
        '',
        '',
        `${(Number(peer.ms) / 1000).toFixed(1)} s, ${String(peer.rssMiB)} MiB, ${cpu(peer)} (same exact counting)`,
        '',
        '<= 1.3x JSONL',
      ],
      hereRow(label, figures(here), '<= 1.3x JSONL'),
      [
        `replay of the same messages at maxTokens ${FLAT_MAX_TOKENS.toLocaleString('en')}: no compaction`,
        figures(flat),
        '',
        '',
        '',
        '',
        '',
      ],
    ];
  } finally {
    await removeDir(dir);
  }
}

async function historyRow(source: string): Promise<Row> {
  const dir = await tempDir();
  try {
    const root = path.join(dir, 'runtime');
    // The default estimator, as the reading process has: what it persisted is what it reads.
    const estimator = createTokenEstimator();
    const runtime = await createSessionRuntime({
      root,
      estimator,
      compactor: new OfflineCompactor({ estimator }),
    });
    const session = await runtime.createSession(keyOf('history'));
    const texts = textsOf(source, 1024, 1000);
    for (let from = 0; from < HISTORY_MESSAGES; from += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          runtime.addMessage(session.id, {
            role: (from + i) % 2 === 0 ? 'user' : 'assistant',
            content: texts[(from + i) % texts.length]!,
          }),
        ),
      );
    }
    const history = await runtime.getHistory(session.id);
    const info = await runtime.getSession(session.id);
    await runtime.close();
    const jsonlFile = path.join(dir, 'history.jsonl');
    const jsonl = await openJsonl(jsonlFile);
    await jsonl.append(history.map((m) => JSON.stringify(m)));
    await jsonl.close();
    const sqliteFile = path.join(dir, 'history.sqlite');
    const db = openSqlite(sqliteFile);
    if (db) {
      const insert = db.prepare('INSERT INTO messages (session, seq, body) VALUES (?, ?, ?)');
      db.transaction(() => {
        for (const m of history) insert.run(session.id, m.seq, JSON.stringify(m));
      })();
      db.close();
    }
    const ours = child('history', root, session.id);
    const peer = child('history-jsonl', jsonlFile);
    const sqlite = child('history-sqlite', sqliteFile, session.id);
    const base = Number(peer.firstMs);
    return [
      `first getHistory, ${history.length.toLocaleString('en')} messages (${info.checkpointVersion} ` +
        'compactions), fresh process',
      `${ms(Number(ours.firstMs))} (${(Number(ours.firstMs) / base).toFixed(1)}x JSONL); second call ` +
        `${ms(Number(ours.secondMs))}; import + open ${ms(Number(ours.importMs))}`,
      '',
      ms(Number(sqlite.firstMs)),
      ms(base),
      '',
      '<= 1.5x JSONL',
    ];
  } finally {
    await removeDir(dir);
  }
}

function listRow(): Row {
  const bin = path.join(PROJECT, 'bin', 'dagent-sessions.js');
  const built = existsSync(path.join(PROJECT, 'dist', 'src', 'cli', 'main.js'));
  const wall = (args: string[]) => {
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const run = spawnSync(process.execPath, args, { cwd: PROJECT, encoding: 'utf8' });
      samples.push(performance.now() - t0);
      if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
    }
    return percentile(samples, 0.5);
  };
  const node = wall(['-e', '0']);
  if (!built)
    return ['`dagent-sessions list`, empty root', 'not built (run npm run build)', '', '', '', ms(node), ''];
  const empty = path.join(PROJECT, 'node_modules', '.cache', 'dagent-lean-empty-root');
  spawnSync(process.execPath, [
    '-e',
    `require('fs').mkdirSync(${JSON.stringify(empty)}, { recursive: true })`,
  ]);
  const list = wall([bin, 'list', '--root', empty]);
  return [
    '`dagent-sessions list`, empty root (median of 7)',
    `${ms(list)} (${(list / node).toFixed(1)}x node -e 0)`,
    '',
    '',
    '',
    `${ms(node)} (node -e 0)`,
    '<= 150 ms',
  ];
}

async function foldRow(): Promise<Row> {
  const dir = await tempDir();
  try {
    const out = child('fold-stall', dir, String(FOLD_MB));
    return [
      `fold of a ${FOLD_MB} MB session during appends`,
      `longest event-loop stall ${ms(Number(out.stallMs))}; slowest append ${ms(Number(out.appendMaxMs))}, ` +
        `p50 ${ms(Number(out.appendP50Ms))} over ${String(out.appends)} appends; folded: ${String(out.folded)}`,
      '',
      '',
      '',
      '',
      'no stall on the append path',
    ];
  } finally {
    await removeDir(dir);
  }
}

/** The benchmark: one table. */
export async function run(): Promise<BenchTable> {
  const source = await realText();
  // LEAN_ROWS=append,create,burst,many runs only those rows (the append figures in 20 s instead of 75).
  const only = process.env.LEAN_ROWS?.split(',');
  const want = (name: string) => only === undefined || only.includes(name);
  const rows: Row[] = [
    ...(want('append') ? await appendRows(source) : []),
    ...(want('create') ? [await createRow()] : []),
    ...(want('burst') ? await burstRows(source) : []),
    ...(want('many') ? await manySessionsRows(source) : []),
    ...(want('replay') ? await replayRows() : []),
    ...(want('history') ? [await historyRow(source)] : []),
    ...(want('list') ? [listRow()] : []),
    ...(want('fold') ? [await foldRow()] : []),
  ];
  return {
    title: 'Lean core (issue 13): each figure against the floor and the peers, in one run',
    columns: [
      'figure',
      'dagent-sessions (public API)',
      'store layer alone',
      'SQLite WAL, synchronous=FULL',
      'JSONL + fdatasync',
      'floor / reference',
      'goal',
    ],
    rows,
    notes: [
      'Floor: one write + fdatasync of the same bytes, to a file opened for appending (p50). Ratios in brackets.',
      "The append rows sample the floor before each call, once the last call's work has ended (a read of the session).",
      `p50 over ${RUNS} appends after ${WARMUP} warm-up ones; messages are cut from the shared transcripts.`,
      'The public API counts tokens with its default estimator; the store layer takes messages counted already.',
      'The burst and 100 x 20 rows append texts new to the process in each round, each session its own, and start ' +
        'their clocks once the counting worker has answered.',
      'Replay, first read and fold run in a fresh process each (test/bench/lean-core-child.ts).',
      "The rows marked syncAppends 'calling-thread' are the row above with that option, measured right after it " +
        '(LEAN_HERE_FIRST=1: right before it) on a runtime of its own; they share its floor and peers.',
    ],
  };
}
