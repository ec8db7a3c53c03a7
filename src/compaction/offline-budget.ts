/**
 * Keeping a summary within its token budget by dropping the least important items first: the
 * oldest completed items, then old decisions, then old pending items, then the newest few of
 * those three sections, and blockers and in-progress items last. Measured with the estimator's
 * own `estimateCheckpoint`, so the promise holds for exactly the count the session will see.
 */
import type { CheckpointSummary } from '../core/types.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { CHECKPOINT_SECTIONS } from '../request/format.js';
import { MAX_STATEMENT_CHARS, shortenStatement } from './extract-text.js';

type Section = keyof CheckpointSummary;

/**
 * The newest items of these sections outlive the older items of the others, so that a summary
 * under pressure still says what was done recently, not only what is open.
 */
const PROTECTED_NEWEST = 5;
const MAX_ROUNDS = 12;

/**
 * @internal `summary` if it fits `budgetTokens`, else a copy with items dropped (and, as a last
 * resort, the one remaining item shortened) until it does; an empty summary (0 tokens) when
 * nothing fits. Never throws for a budget >= 0.
 */
export function fitSummaryToBudget(
  summary: CheckpointSummary,
  budgetTokens: number,
  estimator: TokenEstimator,
): CheckpointSummary {
  if (estimator.estimateCheckpoint(summary) <= budgetTokens) return summary;
  const clipped = mapSummary(summary, (item) =>
    item.length > MAX_STATEMENT_CHARS ? shortenStatement(item) : item,
  );
  const order = dropOrder(clipped);
  const cost = order.map((item) => estimator.estimate(`- ${item.text}`) + 1);
  const headerCost = new Map(
    CHECKPOINT_SECTIONS.map(([section, title]) => [section, estimator.estimate(`### ${title}`) + 2]),
  );
  const baseCost = estimator.estimate('## Checkpoint') + 2;

  let target = budgetTokens;
  let dropped = firstFitting(order, cost, headerCost, baseCost, target);
  for (let round = 0; round < MAX_ROUNDS && dropped < order.length - 1; round++) {
    const candidate = keepFrom(clipped, order, dropped);
    const actual = estimator.estimateCheckpoint(candidate);
    if (actual <= budgetTokens) return candidate;
    // Per-item costs only approximate the whole (tokens merge across lines): aim lower by the overshoot.
    target -= actual - budgetTokens + 1;
    dropped = Math.max(dropped + 1, firstFitting(order, cost, headerCost, baseCost, target));
  }
  return shortenLast(clipped, order, budgetTokens, estimator);
}

/**
 * @internal Every item in the order it is dropped: completed, decisions and pending items older
 * than the newest {@link PROTECTED_NEWEST} of their section (oldest first, section by section),
 * then those newest ones, then blockers, then in-progress items. Keeping a suffix of this list
 * keeps the most important items.
 */
export function dropOrder(
  summary: CheckpointSummary,
): Array<{ section: Section; index: number; text: string }> {
  const items = (section: Section, from: number, to: number) =>
    summary[section].slice(from, to).map((text, i) => ({ section, index: from + i, text }));
  const split = (section: Section) => Math.max(0, summary[section].length - PROTECTED_NEWEST);
  const tiered: Section[] = ['completed', 'decisions', 'pending'];
  return [
    ...tiered.flatMap((section) => items(section, 0, split(section))),
    ...tiered.flatMap((section) => items(section, split(section), summary[section].length)),
    ...items('blockers', 0, summary.blockers.length),
    ...items('inProgress', 0, summary.inProgress.length),
  ];
}

/** The smallest number of dropped items whose estimated remainder fits `target`. */
function firstFitting(
  order: ReadonlyArray<{ section: Section }>,
  cost: readonly number[],
  headerCost: ReadonlyMap<Section, number>,
  baseCost: number,
  target: number,
): number {
  // Walk from the most important end, adding items while they fit.
  let total = baseCost;
  const open = new Set<Section>();
  for (let i = order.length - 1; i >= 0; i--) {
    const item = order[i];
    if (item === undefined) continue;
    const extra = (cost[i] ?? 0) + (open.has(item.section) ? 0 : (headerCost.get(item.section) ?? 0));
    if (total + extra > target) return i + 1;
    total += extra;
    open.add(item.section);
  }
  return 0;
}

/** The summary without the first `dropped` items of `order`. */
function keepFrom(
  summary: CheckpointSummary,
  order: ReadonlyArray<{ section: Section; index: number }>,
  dropped: number,
): CheckpointSummary {
  const removed = new Map<Section, Set<number>>();
  for (const item of order.slice(0, dropped)) {
    const set = removed.get(item.section) ?? new Set<number>();
    set.add(item.index);
    removed.set(item.section, set);
  }
  return {
    completed: summary.completed.filter((_, i) => removed.get('completed')?.has(i) !== true),
    inProgress: summary.inProgress.filter((_, i) => removed.get('inProgress')?.has(i) !== true),
    pending: summary.pending.filter((_, i) => removed.get('pending')?.has(i) !== true),
    decisions: summary.decisions.filter((_, i) => removed.get('decisions')?.has(i) !== true),
    blockers: summary.blockers.filter((_, i) => removed.get('blockers')?.has(i) !== true),
  };
}

/** Only the most important item, cut until it fits; the empty summary when not even that does. */
function shortenLast(
  summary: CheckpointSummary,
  order: ReadonlyArray<{ section: Section; text: string }>,
  budgetTokens: number,
  estimator: TokenEstimator,
): CheckpointSummary {
  const empty: CheckpointSummary = {
    completed: [],
    inProgress: [],
    pending: [],
    decisions: [],
    blockers: [],
  };
  const last = order[order.length - 1];
  if (last === undefined) return empty;
  const withText = (text: string): CheckpointSummary => ({ ...empty, [last.section]: [text] });
  // Binary search for the longest prefix that fits.
  let low = 0;
  let high = Math.min(last.text.length, MAX_STATEMENT_CHARS);
  let best: CheckpointSummary | null = null;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const candidate = withText(shortenStatement(last.text, Math.max(mid, 2)));
    if (estimator.estimateCheckpoint(candidate) <= budgetTokens) {
      best = candidate;
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return best ?? empty;
}

function mapSummary(summary: CheckpointSummary, fn: (item: string) => string): CheckpointSummary {
  return {
    completed: summary.completed.map(fn),
    inProgress: summary.inProgress.map(fn),
    pending: summary.pending.map(fn),
    decisions: summary.decisions.map(fn),
    blockers: summary.blockers.map(fn),
  };
}
