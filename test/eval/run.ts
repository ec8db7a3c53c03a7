/**
 * `npm run eval [dir...] [--json] [--limits 20000,50000] [--targets 0.3,0.6] [--checkpoint-shares 0.1]`:
 * how much of what a resuming agent must know reaches the final request after compaction, on real
 * transcripts.
 *
 * Every transcript (`*.json` in the shape of ../shared/transcripts) of `../shared/transcripts` and
 * of each directory given is replayed through the real runtime with the default offline
 * compactor, at each limit; probe facts derived from the raw transcript (test/eval/probes.ts) are
 * looked for in the final request and in two baselines: truncation to the same request size, and
 * truncation to the whole window. A benchmark, not a test: it reports, a person judges. How to
 * read it: docs/compaction.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateTranscript, type RunResult } from './replay-eval.js';
import {
  costLines,
  recallTable,
  summarise,
  tradeoffTable,
  transcriptTable,
  type LimitSummary,
} from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHARED = path.resolve(HERE, '../../../shared/transcripts');

interface Args {
  dirs: string[];
  json: boolean;
  limits: number[];
  targets: number[];
  /** Checkpoint budgets tried at the default target, as shares of the limit. */
  shares: number[];
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    dirs: [],
    json: false,
    limits: [20_000, 50_000],
    targets: [0.3, 0.45, 0.6, 0.75],
    shares: [0.1, 0.15],
  };
  const list = (value: string | undefined, name: string) => {
    const numbers = (value ?? '').split(',').map(Number);
    if (numbers.length === 0 || numbers.some((n) => !Number.isFinite(n) || n <= 0))
      throw new Error(`${name} takes numbers separated by commas, got ${String(value)}`);
    return numbers;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--limits') args.limits = list(argv[++i], '--limits');
    else if (arg === '--targets')
      args.targets = argv[i + 1] === 'none' ? (i++, []) : list(argv[++i], '--targets');
    else if (arg === '--checkpoint-shares')
      args.shares = argv[i + 1] === 'none' ? (i++, []) : list(argv[++i], '--checkpoint-shares');
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else args.dirs.push(path.resolve(arg));
  }
  if (existsSync(SHARED) && !args.dirs.includes(SHARED)) args.dirs.unshift(SHARED);
  return args;
}

function transcriptsOf(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(dir, name)),
  );
}

async function runAll(
  files: readonly string[],
  maxTokens: number,
  limits?: Record<string, number>,
): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const file of files) {
    runs.push(await evaluateTranscript(file, { maxTokens, ...(limits ? { limits } : {}) }));
    process.stderr.write('.');
  }
  return runs;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // The default compactor is the offline one only when no key is configured.
  delete process.env.ANTHROPIC_API_KEY;
  delete process.env.ANTHROPIC_AUTH_TOKEN;
  const files = transcriptsOf(args.dirs);
  if (files.length === 0) {
    console.error(
      'npm run eval: no transcripts. ../shared/transcripts is absent beside this checkout; give a ' +
        'directory of transcript .json files.',
    );
    process.exitCode = 1;
    return;
  }
  const started = performance.now();
  const results: Array<{ summary: LimitSummary; runs: RunResult[] }> = [];
  for (const maxTokens of args.limits) {
    const runs = await runAll(files, maxTokens);
    results.push({ summary: summarise(runs, null), runs });
  }
  // The trade-off of the tail target, when the runtime has one.
  const tradeoff: LimitSummary[] = [];
  const firstLimits = results[0]?.runs[0]?.limits as { targetAfterCompaction?: number } | undefined;
  const supported = firstLimits?.targetAfterCompaction !== undefined;
  if (supported) {
    for (const maxTokens of args.limits) {
      for (const target of args.targets)
        tradeoff.push(summarise(await runAll(files, maxTokens, { targetAfterCompaction: target }), target));
      for (const share of args.shares) {
        const checkpointTokens = Math.floor(maxTokens * share);
        tradeoff.push(summarise(await runAll(files, maxTokens, { checkpointTokens }), null));
      }
    }
  }
  process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  if (args.json) {
    console.log(
      JSON.stringify(
        {
          transcripts: files,
          seconds,
          limits: results.map(({ summary, runs }) => ({
            ...summary,
            transcripts: runs.map(({ finalCheckpoint: _c, limits: _l, ...run }) => run),
          })),
          tradeoff,
        },
        null,
        1,
      ),
    );
    return;
  }
  const out: string[] = [
    '# Checkpoint quality: recall of probe facts in the final request',
    '',
    `${files.length} transcripts (${args.dirs.join(', ')}), default offline compactor, ${seconds.toFixed(0)} s.`,
  ];
  for (const { summary, runs } of results) {
    out.push(
      '',
      `## Limit ${summary.maxTokens.toLocaleString('en-US')} tokens`,
      '',
      recallTable(summary),
      '',
    );
    out.push(costLines(summary), '', transcriptTable(runs));
  }
  if (tradeoff.length > 0) {
    out.push(
      '',
      '## Trade-off of the tail target and the checkpoint budget',
      '',
      tradeoffTable([...results.map((r) => r.summary), ...tradeoff]),
      '',
      'Each row replays every transcript; the first rows are the defaults. Compactions per 100k appended tokens ' +
        'is what a larger target costs; the checkpoint budget decides how much of the archive can be recalled.',
    );
  } else {
    out.push('', '_This runtime has no `targetAfterCompaction` limit: no trade-off table._');
  }
  console.log(out.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
