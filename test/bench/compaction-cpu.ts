/**
 * Compaction alone, on the real transcripts, without the runtime or the store: every transcript
 * is appended in memory (counted first, outside the timing) and compacted whenever the request
 * reaches the threshold of a 20k-token limit (`COMPACTION_LIMIT=50000`: another), as the session
 * would (offline compactor, exact counting, the watermark at the last message). The summarise step
 * and the runtime's count of the committed checkpoint (`checkpointCount`, or `countPart` in trees
 * before it) are timed; nothing else is.
 *
 * The clock is fixed, so the outputs are a pure function of the code: the script writes every
 * checkpoint, archived segment, compaction output and checkpoint count as JSON, to compare trees
 * byte for byte (a change meant to make compaction cheaper must change none of them). Several
 * trees are loaded into one process and their rounds alternate, so that a busy machine slows them
 * alike; each prints its CPU time per round and the ratio of its median to the first tree's:
 *
 * ```sh
 * npx tsx test/bench/compaction-cpu.ts 8 /tmp/old-tree=/tmp/old.json .=/tmp/new.json
 * cmp /tmp/old.json /tmp/new.json
 * ```
 *
 * Arguments: how many rounds, then each tree whose `src/` to run (`=FILE`: write its outputs
 * there). Every round of a tree must give the same outputs. CPU is given for the process and for
 * its main thread alone (`mainThreadMs`, from /proc on Linux). Module-level memos (the renderer's)
 * carry over from round to round as they carry over from compaction to compaction in a process.
 */
import { readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [roundsArg = '5', ...treeArgs] = process.argv.slice(2);
const transcriptsDir =
  process.env.DAGENT_TRANSCRIPTS ?? path.resolve(import.meta.dirname, '../../../shared/transcripts');

/** CPU milliseconds (user + system, every thread of the process) since `start`. */
const cpuOf = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
};
/** CPU milliseconds the main thread has run so far (Linux: its schedstat; elsewhere the process's). */
const mainCpu = (): number => {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return cpuOf({ user: 0, system: 0 });
  }
};

interface Msg {
  seq: number;
  tokens: number;
  role: string;
  metadata?: Record<string, unknown>;
}

/** One tree's code, loaded: a round compacts every transcript once. */
async function loadTree(tree: string, transcripts: Msg[][], names: string[]) {
  const load = (file: string) => import(pathToFileURL(path.join(tree, file)).href);
  const { summariseCompaction } = await load('src/compaction/run-compaction.ts');
  const { OfflineCompactor } = await load('src/compaction/offline-compactor.ts');
  const { createTokenEstimator } = await load('src/tokens/token-estimator.ts');
  const { defaultLimits } = await load('src/runtime/limits.ts');
  const { countPart, checkpointCount } = await load('src/runtime/fixed-counts.ts');
  const { requestTokens, countedTokens } = await load('src/core/request-size.ts');
  const limits = defaultLimits(Number(process.env.COMPACTION_LIMIT ?? 20_000));
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
  const now = () => new Date(0);
  const elapsed = () => 0;
  const signal = new AbortController().signal;

  const round = async () => {
    // A new estimator each round, so that no round finds what an earlier one remembered.
    const estimator = createTokenEstimator();
    const compactor = new OfflineCompactor({ estimator });
    const outputs: unknown[] = [];
    let ms = 0;
    let cpuMs = 0;
    let mainMs = 0;
    let compactions = 0;
    for (const [t, all] of transcripts.entries()) {
      let live: Msg[] = [];
      let checkpoint: unknown = null;
      let checkpointTokens = 0;
      let blockedAt: number | null = null;
      for (const message of all) {
        live.push(message);
        const liveTokens = countedTokens(live);
        const request = requestTokens(checkpointTokens + liveTokens, 1, limits.replyReserveTokens);
        if (request < threshold) continue;
        if (blockedAt !== null && liveTokens - blockedAt < Math.max(1, limits.keepRecentTokens)) continue;
        const input = {
          sessionId: `s${t}`,
          watermarkSeq: message.seq,
          limits,
          keepRecentTokens: limits.keepRecentTokens,
          fixedTokens: 0,
          correction: 1,
          attempt: 1,
          trigger: 'threshold',
        };
        const dir = { messages: live, checkpoint, commit: async () => undefined };
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const m0 = mainCpu();
        let result;
        try {
          result = await summariseCompaction({ dir, compactor, estimator, now, elapsed }, input, signal);
        } catch (error) {
          ms += performance.now() - t0;
          cpuMs += cpuOf(c0);
          mainMs += mainCpu() - m0;
          outputs.push({ transcript: names[t], at: message.seq, error: (error as { code?: string }).code });
          blockedAt = liveTokens;
          continue;
        }
        // As the runtime counts it after the commit: on the store's copy (checkpointCount, round 9 of
        // issue 13, takes the compaction's count; an older tree counts the copy again).
        const copy = result.commit === null ? null : structuredClone(result.commit.checkpoint);
        const count =
          copy === null
            ? null
            : checkpointCount
              ? checkpointCount(estimator, copy, result.commit.checkpoint)
              : countPart(estimator, 'checkpoint', copy);
        ms += performance.now() - t0;
        cpuMs += cpuOf(c0);
        mainMs += mainCpu() - m0;
        compactions++;
        outputs.push({
          transcript: names[t],
          at: message.seq,
          output: result.output,
          commit: result.commit,
          count,
        });
        if (result.commit === null) {
          blockedAt = liveTokens;
          continue;
        }
        blockedAt = null;
        const archived = new Set(result.commit.segment?.messages.map((m: Msg) => m.seq) ?? []);
        live = live.filter((m) => !archived.has(m.seq));
        checkpoint = result.commit.checkpoint;
        checkpointTokens = count!.tokens;
      }
    }
    return { ms, cpuMs, mainMs, compactions, json: JSON.stringify(outputs, null, 1) };
  };

  return round;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const trees = treeArgs.map((arg) => {
    const [tree = '.', out] = arg.split('=');
    return { tree: path.resolve(tree), out };
  });
  const { loadTranscript } = await import(
    pathToFileURL(path.join(trees[0]!.tree, 'src/integration/transcript.ts')).href
  );
  const { createTokenEstimator } = await import(
    pathToFileURL(path.join(trees[0]!.tree, 'src/tokens/token-estimator.ts')).href
  );
  const counter = createTokenEstimator();
  const names = (await readdir(transcriptsDir)).filter((n) => n.endsWith('.json')).sort();
  // Counted once, outside the timing: the runtime counts each message as it is appended.
  const transcripts: Msg[][] = [];
  for (const name of names) {
    const transcript = await loadTranscript(path.join(transcriptsDir, name));
    transcripts.push(
      transcript.messages.map((input: { role: string; content: unknown }, seq: number) => ({
        ...input,
        id: `m${seq}`,
        seq,
        timestamp: new Date(seq * 1000).toISOString(),
        tokens: counter.estimateMessage(input),
      })),
    );
  }
  const rounds = await Promise.all(trees.map(({ tree }) => loadTree(tree, transcripts, names)));
  const results = trees.map(() => ({
    ms: [] as number[],
    cpuMs: [] as number[],
    mainMs: [] as number[],
    json: '',
    compactions: 0,
  }));
  // Rounds alternate between the trees, so that a busy machine slows them alike.
  for (let i = 0; i < Number(roundsArg); i++) {
    for (const [t, round] of rounds.entries()) {
      const r = await round();
      const result = results[t]!;
      result.ms.push(Math.round(r.ms));
      result.cpuMs.push(Math.round(r.cpuMs));
      result.mainMs.push(Math.round(r.mainMs));
      result.compactions = r.compactions;
      if (i === 0) result.json = r.json;
      else if (result.json !== r.json)
        throw new Error(`${trees[t]!.tree}: round ${i + 1} gave other outputs`);
    }
  }
  for (const [t, { tree, out }] of trees.entries()) {
    const result = results[t]!;
    if (out !== undefined) await writeFile(out, `${result.json}\n`);
    const first = results[0]!;
    process.stdout.write(
      `${JSON.stringify({
        tree,
        compactions: result.compactions,
        cpuMs: result.cpuMs,
        medianCpuMs: median(result.cpuMs),
        ratioToFirst: Number((median(result.cpuMs) / median(first.cpuMs)).toFixed(2)),
        mainThreadMs: result.mainMs,
        medianMainThreadMs: median(result.mainMs),
        mainRatioToFirst: Number((median(result.mainMs) / median(first.mainMs)).toFixed(2)),
        sameOutputsAsFirst: result.json === first.json,
      })}\n`,
    );
  }
}

await main();
