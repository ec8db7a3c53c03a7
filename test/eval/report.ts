/**
 * Sums evaluation runs into the figures the evaluation reports, and renders them as markdown.
 */
import { FACT_KINDS, KIND_TITLES, type FactKind } from './probes.js';
import type { FactResult, RunResult } from './replay-eval.js';

/** Recall of one group of facts by the runtime and the two baselines. */
export interface Recall {
  facts: number;
  runtime: number;
  sameSize: number;
  window: number;
}

/** Recall of a kind (or of all facts), split by where the evidence is. */
export interface KindRecall {
  live: Recall;
  archiveOnly: Recall;
  all: Recall;
}

/** The figures of every transcript at one limit (and one tail target). */
export interface LimitSummary {
  maxTokens: number;
  target: number | null;
  /** The runs' target and checkpoint budget, as their limits say. */
  targetUsed: number | null;
  checkpointShare: number;
  byKind: Record<FactKind, KindRecall>;
  overall: KindRecall;
  compactions: number;
  compactionsPer100k: number;
  appendedTokens: number;
  medianAfterCompaction: number | null;
  checkpointMedian: number | null;
  checkpointMax: number | null;
  checkpointBudget: number;
  checkpointsOverBudget: number;
  noiseShare: number;
  noise: {
    items: number;
    thinking: number;
    narration: number;
    intentions: number;
    blockersWithoutFailure: number;
  };
  thinkingItemsAnyVersion: number;
}

/** Recall of `facts`, as shares in 0..1 (NaN when there are none). */
function recall(facts: readonly FactResult[]): Recall {
  const share = (pick: (f: FactResult) => boolean) =>
    facts.length === 0 ? Number.NaN : facts.filter(pick).length / facts.length;
  return {
    facts: facts.length,
    runtime: share((f) => f.runtime),
    sameSize: share((f) => f.sameSize),
    window: share((f) => f.window),
  };
}

function split(facts: readonly FactResult[]): KindRecall {
  return {
    live: recall(facts.filter((f) => f.live)),
    archiveOnly: recall(facts.filter((f) => !f.live)),
    all: recall(facts),
  };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
}

/** Sums the runs of one limit. */
export function summarise(runs: readonly RunResult[], target: number | null): LimitSummary {
  const facts = runs.flatMap((r) => r.facts);
  const byKind = Object.fromEntries(
    FACT_KINDS.map((kind) => [kind, split(facts.filter((f) => f.kind === kind))]),
  ) as Record<FactKind, KindRecall>;
  const appendedTokens = runs.reduce((sum, r) => sum + r.appendedTokens, 0);
  const compactions = runs.reduce((sum, r) => sum + r.compactions, 0);
  const checkpoints = runs.flatMap((r) => r.checkpointTokens);
  const budget = runs[0]?.checkpointBudget ?? 0;
  const noise = { items: 0, thinking: 0, narration: 0, intentions: 0, blockersWithoutFailure: 0 };
  let noisy = 0;
  for (const r of runs) {
    noise.items += r.noise.items;
    noise.thinking += r.noise.thinking;
    noise.narration += r.noise.narration;
    noise.intentions += r.noise.intentions;
    noise.blockersWithoutFailure += r.noise.blockersWithoutFailure;
    noisy += r.noise.noisy;
  }
  const first = runs[0];
  const limits = first?.limits as { targetAfterCompaction?: number; checkpointTokens?: number } | undefined;
  return {
    maxTokens: first?.maxTokens ?? 0,
    target,
    targetUsed: limits?.targetAfterCompaction ?? null,
    checkpointShare: first === undefined ? 0 : (limits?.checkpointTokens ?? 0) / first.maxTokens,
    byKind,
    overall: split(facts),
    compactions,
    compactionsPer100k: appendedTokens === 0 ? 0 : (compactions * 100_000) / appendedTokens,
    appendedTokens,
    medianAfterCompaction: median(runs.flatMap((r) => r.afterCompaction)),
    checkpointMedian: median(checkpoints),
    checkpointMax: checkpoints.length === 0 ? null : Math.max(...checkpoints),
    checkpointBudget: budget,
    checkpointsOverBudget: runs.reduce(
      (sum, r) => sum + r.checkpointTokens.filter((t) => t > r.checkpointBudget).length,
      0,
    ),
    noiseShare: noise.items === 0 ? 0 : noisy / noise.items,
    noise,
    thinkingItemsAnyVersion: runs.reduce((sum, r) => sum + r.thinkingItemsAnyVersion, 0),
  };
}

const pct = (x: number) => (Number.isNaN(x) ? '–' : `${Math.round(x * 100)}%`);

function table(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The recall table of one limit: by kind, live and archive-only, runtime and both baselines. */
export function recallTable(summary: LimitSummary): string {
  const row = (title: string, k: KindRecall): string[] => [
    title,
    `${k.all.facts} (${k.live.facts} live, ${k.archiveOnly.facts} archive-only)`,
    pct(k.archiveOnly.runtime),
    pct(k.archiveOnly.sameSize),
    pct(k.archiveOnly.window),
    pct(k.live.runtime),
    pct(k.all.runtime),
    pct(k.all.sameSize),
    pct(k.all.window),
  ];
  return table(
    [
      'kind',
      'facts',
      'archive-only: runtime',
      'trunc. same size',
      'trunc. window',
      'live: runtime',
      'all: runtime',
      'trunc. same size',
      'trunc. window',
    ],
    [
      ...FACT_KINDS.map((kind) => row(KIND_TITLES[kind], summary.byKind[kind])),
      row('**all facts**', summary.overall),
    ],
  );
}

/** Compactions, request sizes, checkpoint sizes and noise of one limit. */
export function costLines(summary: LimitSummary): string {
  const n = summary.noise;
  return [
    `- compactions: ${summary.compactions} (${summary.compactionsPer100k.toFixed(2)} per 100k appended tokens, ` +
      `${summary.appendedTokens.toLocaleString('en-US')} tokens appended); median request right after a compaction: ` +
      `${summary.medianAfterCompaction ?? '–'} of ${summary.maxTokens}`,
    `- checkpoint tokens: median ${summary.checkpointMedian ?? '–'}, max ${summary.checkpointMax ?? '–'}, budget ` +
      `${summary.checkpointBudget}; versions over budget: ${summary.checkpointsOverBudget}`,
    `- noise in the final checkpoints: ${pct(summary.noiseShare)} of ${n.items} items (thinking ${n.thinking}, ` +
      `copied narration ${n.narration}, intentions as decisions ${n.intentions}, blockers without a failure ` +
      `${n.blockersWithoutFailure}); \`<thinking>\` items in ` +
      `any checkpoint version: ${summary.thinkingItemsAnyVersion}`,
  ].join('\n');
}

/** Per transcript: facts, compactions, checkpoint size, archive-only recall. */
export function transcriptTable(runs: readonly RunResult[]): string {
  return table(
    [
      'transcript',
      'messages',
      'compactions',
      'facts (archive-only)',
      'archive-only recall',
      'all recall',
      'checkpoint max',
    ],
    runs.map((r) => {
      const k = split(r.facts);
      return [
        r.file,
        String(r.messages),
        String(r.compactions),
        `${k.all.facts} (${k.archiveOnly.facts})`,
        pct(k.archiveOnly.runtime),
        pct(k.all.runtime),
        r.checkpointTokens.length === 0 ? '–' : `${Math.max(...r.checkpointTokens)}/${r.checkpointBudget}`,
      ];
    }),
  );
}

/** The trade-off of the tail target: recall against compactions per 100k appended tokens. */
export function tradeoffTable(summaries: readonly LimitSummary[]): string {
  return table(
    [
      'limit',
      'targetAfterCompaction',
      'checkpoint budget',
      'archive-only recall',
      'all recall',
      'compactions / 100k tokens',
      'median after compaction',
    ],
    summaries.map((s) => [
      String(s.maxTokens),
      s.targetUsed === null ? '–' : String(s.targetUsed),
      `${Math.round(s.checkpointShare * 100)}%`,
      pct(s.overall.archiveOnly.runtime),
      pct(s.overall.all.runtime),
      s.compactionsPer100k.toFixed(2),
      String(s.medianAfterCompaction ?? '–'),
    ]),
  );
}
