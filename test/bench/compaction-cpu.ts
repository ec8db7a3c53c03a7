/**
 * Compaction alone, on the real transcripts, without the runtime or the store: every transcript
 * is appended in memory (counted first, outside the timing) and compacted whenever the request
 * reaches the threshold of a 20k-token limit, as the session would (offline compactor, exact
 * counting, the watermark at the last message). The summarise step and the runtime's count of the
 * committed checkpoint (`countPart`) are timed; nothing else is.
 *
 * The clock is fixed, so the outputs are a pure function of the code: the script writes every
 * checkpoint, archived segment, compaction output and checkpoint count as JSON, to compare two
 * trees byte for byte (a change meant to make compaction cheaper must change none of them):
 *
 * ```sh
 * npx tsx test/bench/compaction-cpu.ts /tmp/old-tree /tmp/old.json 3
 * npx tsx test/bench/compaction-cpu.ts . /tmp/new.json 3 && cmp /tmp/old.json /tmp/new.json
 * ```
 *
 * Arguments: the tree whose `src/` to run, where to write the JSON, and how many rounds to time
 * (the outputs of every round must be the same; the first round's are written).
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [treeArg = '.', outFile = '/dev/null', roundsArg = '3'] = process.argv.slice(2);
const tree = path.resolve(treeArg);
const transcriptsDir =
  process.env.DAGENT_TRANSCRIPTS ?? path.resolve(import.meta.dirname, '../../../shared/transcripts');
const load = (file: string) => import(pathToFileURL(path.join(tree, file)).href);

/** CPU milliseconds (user + system, every thread of the process) since `start`. */
const cpuOf = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
};

interface Msg {
  seq: number;
  tokens: number;
  role: string;
  metadata?: Record<string, unknown>;
}

async function main(): Promise<void> {
  const { loadTranscript } = await load('src/integration/transcript.ts');
  const { summariseCompaction } = await load('src/compaction/run-compaction.ts');
  const { OfflineCompactor } = await load('src/compaction/offline-compactor.ts');
  const { createTokenEstimator } = await load('src/tokens/token-estimator.ts');
  const { defaultLimits } = await load('src/runtime/limits.ts');
  const { countPart } = await load('src/runtime/fixed-counts.ts');
  const { requestTokens, countedTokens } = await load('src/core/request-size.ts');
  const counter = createTokenEstimator();
  const limits = defaultLimits(20_000);
  const threshold = Math.floor(limits.maxTokens * limits.compactAt);
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
        let result;
        try {
          result = await summariseCompaction({ dir, compactor, estimator, now, elapsed }, input, signal);
        } catch (error) {
          ms += performance.now() - t0;
          cpuMs += cpuOf(c0);
          outputs.push({ transcript: names[t], at: message.seq, error: (error as { code?: string }).code });
          blockedAt = liveTokens;
          continue;
        }
        const count =
          result.commit === null ? null : countPart(estimator, 'checkpoint', result.commit.checkpoint);
        ms += performance.now() - t0;
        cpuMs += cpuOf(c0);
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
    return { ms, cpuMs, compactions, json: JSON.stringify(outputs, null, 1) };
  };

  const rounds = Number(roundsArg);
  const times: number[] = [];
  const cpu: number[] = [];
  let first: string | null = null;
  let compactions = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await round();
    times.push(Math.round(r.ms));
    cpu.push(Math.round(r.cpuMs));
    compactions = r.compactions;
    if (first === null) first = r.json;
    else if (first !== r.json) throw new Error(`round ${i + 1} gave other outputs than round 1`);
  }
  await writeFile(outFile, `${first}\n`);
  process.stdout.write(`${JSON.stringify({ tree, compactions, ms: times, cpuMs: cpu })}\n`);
}

await main();
