/**
 * The lean-core benchmark's measurements that need a fresh process (first reads, peak memory of a
 * replay, event-loop stalls): `node --import tsx lean-core-child.ts MODE ARGS...` prints one JSON
 * line with what it measured.
 *
 * - `replay ROOT [SYNC] [MAX]`: every shared transcript replayed through the runtime at a 20k-token
 *   limit, or MAX (SYNC: the runtime's option `syncAppends`, such as `calling-thread`, or '').
 * - `replay-jsonl DIR`: the same messages counted with the same exact counter, written as JSONL.
 * - `history ROOT ID`: the first `getHistory` of a session, in a runtime opened read-only.
 * - `history-jsonl FILE` / `history-sqlite FILE ID`: the same history read from the peers.
 * - `fold-stall ROOT MB`: appends across the fold of a session of MB megabytes of live messages.
 */
import { readFileSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  TRANSCRIPTS,
  keyOf,
  openJsonl,
  openSqlite,
  openStoreLayer,
  percentile,
  realText,
  storedMessage,
  textsOf,
} from './lean-core-shared.js';

type Out = Record<string, number | string | boolean>;

const rssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/**
 * CPU milliseconds since `from`: the process's (every thread, the counting worker's too) and the
 * main thread's (Linux: /proc/self/task/<pid>/stat, else NaN). Under load wall time measures the
 * machine more than the code; these do not.
 */
function cpuSince(from: { process: NodeJS.CpuUsage; main: number }): { cpuMs: number; mainCpuMs: number } {
  const used = process.cpuUsage(from.process);
  return { cpuMs: Math.round((used.user + used.system) / 1000), mainCpuMs: mainThreadCpuMs() - from.main };
}

function cpuNow(): { process: NodeJS.CpuUsage; main: number } {
  return { process: process.cpuUsage(), main: mainThreadCpuMs() };
}

/** The main thread's user + system CPU in ms (clock ticks of 10 ms), NaN where /proc is not there. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

async function transcripts() {
  const { loadTranscript } = await import('../../src/integration/transcript.js');
  const names = (await readdir(TRANSCRIPTS)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(names.map((n) => loadTranscript(path.join(TRANSCRIPTS, n))));
}

async function replay(root: string, syncAppends: string, maxTokens: number): Promise<Out> {
  const all = await transcripts();
  const t0 = performance.now();
  const cpu0 = cpuNow();
  const { createSessionRuntime } = await import('../../src/runtime/create-session-runtime.js');
  const { OfflineCompactor } = await import('../../src/compaction/offline-compactor.js');
  const { createTokenEstimator } = await import('../../src/tokens/token-estimator.js');
  const { replayConversation } = await import('../../src/integration/replay.js');
  const estimator = createTokenEstimator();
  const runtime = await createSessionRuntime({
    root,
    estimator,
    compactor: new OfflineCompactor({ estimator }),
    limits: { maxTokens },
    ...(syncAppends === '' ? {} : { syncAppends: syncAppends as 'calling-thread' }),
  });
  let messages = 0;
  let over = 0;
  let compactions = 0;
  let intact = true;
  try {
    for (const [i, transcript] of all.entries()) {
      const session = await runtime.createSession(keyOf(`replay${i}`));
      const report = await replayConversation(runtime, session.id, transcript.messages);
      messages += report.messages;
      over += report.requestsOverLimit;
      compactions += report.compactions.length;
      intact &&= report.historyIntact;
    }
  } finally {
    await runtime.close();
  }
  return {
    ms: performance.now() - t0,
    ...cpuSince(cpu0),
    rssMiB: rssMiB(),
    messages,
    over,
    compactions,
    intact,
  };
}

async function replayJsonl(dir: string): Promise<Out> {
  const all = await transcripts();
  const t0 = performance.now();
  const cpu0 = cpuNow();
  const { createTokenEstimator } = await import('../../src/tokens/token-estimator.js');
  const estimator = createTokenEstimator();
  let messages = 0;
  for (const [i, transcript] of all.entries()) {
    const log = await openJsonl(path.join(dir, `replay${i}.jsonl`));
    for (const [seq, input] of transcript.messages.entries()) {
      const tokens = estimator.estimateMessage(input);
      await log.append([JSON.stringify({ ...input, seq, tokens, timestamp: new Date().toISOString() })]);
      messages++;
    }
    await log.close();
  }
  return { ms: performance.now() - t0, ...cpuSince(cpu0), rssMiB: rssMiB(), messages };
}

async function history(root: string, id: string): Promise<Out> {
  const t0 = performance.now();
  const { createSessionRuntime } = await import('../../src/runtime/create-session-runtime.js');
  const runtime = await createSessionRuntime({ root, readOnly: true });
  const t1 = performance.now();
  const messages = await runtime.getHistory(id);
  const t2 = performance.now();
  const again = await runtime.getHistory(id);
  const t3 = performance.now();
  await runtime.close();
  return {
    importMs: t1 - t0,
    firstMs: t2 - t1,
    secondMs: t3 - t2,
    messages: messages.length,
    same: again.length === messages.length,
    rssMiB: rssMiB(),
  };
}

async function historyJsonl(file: string): Promise<Out> {
  const t0 = performance.now();
  const text = await readFile(file, 'utf8');
  const messages = text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as unknown);
  return { firstMs: performance.now() - t0, messages: messages.length, rssMiB: rssMiB() };
}

async function historySqlite(file: string, id: string): Promise<Out> {
  const t0 = performance.now();
  const db = openSqlite(file);
  if (db === null) return { firstMs: NaN, messages: 0, rssMiB: rssMiB() };
  const rows = db.prepare('SELECT body FROM messages WHERE session = ? ORDER BY seq').all(id) as {
    body: string;
  }[];
  const messages = rows.map((r) => JSON.parse(r.body) as unknown);
  const ms = performance.now() - t0;
  db.close();
  return { firstMs: ms, messages: messages.length, rssMiB: rssMiB() };
}

/**
 * A session of `mb` megabytes of live messages, built so that its next fold comes at `mb`: the
 * fold threshold is set to half of it, so the first fold happens half-way and the second when the
 * log has grown as large as the snapshot. Then single appends cross that second fold while a
 * monitor records the event loop's longest stall.
 */
async function foldStall(root: string, mb: number): Promise<Out> {
  const bytes = mb * 1024 * 1024;
  const half = Math.floor(bytes / 2);
  const store = await openStoreLayer(root, { foldMinBytes: half });
  const id = await store.create(keyOf('fold'));
  const texts = textsOf(await realText(), 900, 512);
  let seq = 0;
  let written = 0;
  const next = () => {
    const m = storedMessage(seq, texts[seq % texts.length]!);
    seq++;
    written += Buffer.byteLength(JSON.stringify(m)) + 20;
    return m;
  };
  while (written < bytes - 2 * 1024 * 1024) await store.append(id, Array.from({ length: 500 }, next));
  const snapshot = path.join(root, '.dagent', 'sessions', id, 'chat.json');
  const sizeOf = async () => (await stat(snapshot).catch(() => ({ size: 0 }))).size;
  const before = await sizeOf();
  const monitor = monitorEventLoopDelay({ resolution: 2 });
  monitor.enable();
  const latencies: number[] = [];
  const started = performance.now();
  // Until the fold has written the new snapshot (or 60 s): single appends, each awaited.
  while ((await sizeOf()) < before * 1.5 && performance.now() - started < 60_000) {
    const t0 = performance.now();
    await store.append(id, [next()]);
    latencies.push(performance.now() - t0);
  }
  monitor.disable();
  const after = await sizeOf();
  await store.close();
  return {
    stallMs: monitor.max / 1e6,
    appendMaxMs: Math.max(...latencies),
    appendP50Ms: percentile(latencies, 0.5),
    appends: latencies.length,
    snapshotMiB: Math.round(after / 1024 / 1024),
    folded: after >= before * 1.5,
  };
}

async function main(): Promise<void> {
  const [mode, a = '', b = '', c = ''] = process.argv.slice(2);
  const out =
    mode === 'replay'
      ? await replay(a, b, c === '' ? 20_000 : Number(c))
      : mode === 'replay-jsonl'
        ? await replayJsonl(a)
        : mode === 'history'
          ? await history(a, b)
          : mode === 'history-jsonl'
            ? await historyJsonl(a)
            : mode === 'history-sqlite'
              ? await historySqlite(a, b)
              : mode === 'fold-stall'
                ? await foldStall(a, Number(b))
                : null;
  if (out === null) throw new Error(`unknown mode ${String(mode)}`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
