/**
 * Keeping a checkpoint (ledger + summary) within its token budget. What goes first is what a
 * resuming agent needs least; the user's own words go last: files only read, successful looks
 * around (`ls`, `git status`), other successful commands and tools run once, completed items, names
 * in use (least used first), the last successful runs of the workflow (test runners, builds,
 * linters, commands run again and again; older task-loop iterations before them), files changed,
 * failed commands (their problem stays), the summary's decisions, next steps, work in progress and
 * goals, the last iteration's line, recorded reviews and decisions, open problems, then the user's
 * requests are shortened, and only then dropped, oldest first. Measured with the estimator's own
 * `estimateCheckpoint`, so the promise holds for exactly the count the session will see.
 */
import type { LedgerCommand, SessionLedger } from '../../core/ledger-types.js';
import type { CheckResult, Checkpoint, CheckpointSummary } from '../../core/types.js';
import { NAME_MIN_MENTIONS } from '../../request/format-ledger.js';
import type { TokenEstimator } from '../../tokens/token-estimator.js';
import { clip } from '../vocabulary/outcome.js';
import { emptyLedger } from './ledger-builder.js';
import { isInspection, runnerOf } from './runner.js';

/** What a checkpoint renders: its summary, its ledger and its checks. */
export interface CheckpointParts {
  summary: CheckpointSummary;
  ledger: SessionLedger;
  checks?: CheckResult[];
}

/** The newest requests keep this many characters; the others are cut to {@link OLDER_REQUEST_CHARS}. */
const NEWEST_REQUEST_CHARS = 400;
const NEWEST_REQUESTS = 3;
const OLDER_REQUEST_CHARS = 200;
/** Under pressure, requests are cut to this many characters before any is dropped. */
const SHORT_REQUEST_CHARS = 100;
/** The least share of the budget a compactor's summary is given, however large the ledger. */
const SUMMARY_SHARE = 0.3;

type Step = (parts: Draft) => void;
interface Draft {
  summary: CheckpointSummary;
  ledger: SessionLedger;
}

/**
 * The tokens a compactor's summary may use next to `ledger` within `budgetTokens`: what the
 * ledger leaves, but never less than 30% of the budget (the fit then trims the ledger's least
 * needed items).
 *
 * @param ledger - the ledger the summary goes with.
 * @param budgetTokens - the checkpoint's budget.
 * @param estimator - how the checkpoint is counted.
 * @returns the summary's budget, in tokens.
 * @example summaryBudget(ledger, 2_000, estimator) // 1_240 when the ledger renders in 760
 */
export function summaryBudget(
  ledger: SessionLedger,
  budgetTokens: number,
  estimator: TokenEstimator,
): number {
  const ledgerTokens = countParts(estimator, { summary: EMPTY_SUMMARY, ledger });
  return Math.max(Math.floor(budgetTokens * SUMMARY_SHARE), budgetTokens - ledgerTokens);
}

/**
 * What a compactor is given next to the messages: the summary's budget (at most a quarter of the
 * compactor's own input window, so that chunks keep room for messages) and a view of the ledger
 * cut to another quarter (the stored ledger is not changed).
 *
 * @param ledger - the session's ledger.
 * @param budgetTokens - the checkpoint's budget.
 * @param maxInputTokens - the compactor's input window (`Compactor.maxInputTokens`).
 * @param estimator - how the checkpoint is counted.
 * @returns the summary's budget and the ledger to show.
 * @example compactorView(ledger, 25_000, 15_000, estimator) // { budgetTokens: 3750, ledger: <at most 3,750 tokens> }
 */
export function compactorView(
  ledger: SessionLedger,
  budgetTokens: number,
  maxInputTokens: number,
  estimator: TokenEstimator,
): { budgetTokens: number; ledger: SessionLedger } {
  const view = compactorViewCounted(ledger, budgetTokens, maxInputTokens, estimator);
  return { budgetTokens: view.budgetTokens, ledger: view.ledger };
}

/**
 * @internal {@link compactorView}, with `ledgerTokens`: the count of the ledger shown, rendered with
 * an empty summary (what `foldInChunks` leaves room for), as the fit took it.
 * @example const { budgetTokens, ledger, ledgerTokens } = compactorViewCounted(ledger, 2_000, 15_000, estimator)
 */
export function compactorViewCounted(
  ledger: SessionLedger,
  budgetTokens: number,
  maxInputTokens: number,
  estimator: TokenEstimator,
): { budgetTokens: number; ledger: SessionLedger; ledgerTokens: number } {
  const quarter = Math.max(64, Math.floor(maxInputTokens / 4));
  const budget = Math.min(summaryBudget(ledger, budgetTokens, estimator), quarter);
  const shown = fitCheckpointCounted({ summary: EMPTY_SUMMARY, ledger }, quarter, estimator);
  return { budgetTokens: budget, ledger: shown.parts.ledger, ledgerTokens: shown.tokens };
}

/**
 * The checkpoint parts cut to fit `budgetTokens` (requests always capped: the newest three at 400
 * characters, older ones at 200). Returns new objects; the arguments are not changed. When even
 * the smallest form does not fit (checks alone can be larger), the smallest form is returned.
 *
 * @param parts - the summary, ledger and checks.
 * @param budgetTokens - the budget, as `estimator.estimateCheckpoint` counts.
 * @param estimator - how the checkpoint is counted.
 * @returns the parts that fit.
 * @example
 * ```ts
 * const { summary, ledger } = fitCheckpoint({ summary, ledger, checks }, limits.checkpointTokens, estimator);
 * ```
 */
export function fitCheckpoint(
  parts: CheckpointParts,
  budgetTokens: number,
  estimator: TokenEstimator,
): CheckpointParts {
  return fitCheckpointCounted(parts, budgetTokens, estimator).parts;
}

/**
 * @internal {@link fitCheckpoint}, with the count of the parts it returns: the count the fit took of
 * that very draft (the same rendering), so that a caller need not render and count it again.
 * @example const { parts, tokens } = fitCheckpointCounted({ summary, ledger }, 2_000, estimator)
 */
export function fitCheckpointCounted(
  parts: CheckpointParts,
  budgetTokens: number,
  estimator: TokenEstimator,
): { parts: CheckpointParts; tokens: number } {
  const base: Draft = {
    summary: copySummary(parts.summary),
    ledger: capRequests(parts.ledger ?? emptyLedger()),
  };
  const tokens = (draft: Draft) =>
    countParts(estimator, parts.checks === undefined ? draft : { ...draft, checks: parts.checks });
  const withChecks = (draft: Draft): CheckpointParts =>
    parts.checks === undefined ? draft : { ...draft, checks: parts.checks };
  const baseTokens = tokens(base);
  if (baseTokens <= budgetTokens) return { parts: withChecks(base), tokens: baseTokens };
  const steps = dropSteps(base);
  const apply = (count: number): Draft => {
    const draft: Draft = { summary: copySummary(base.summary), ledger: copyLedger(base.ledger) };
    for (const step of steps.slice(0, count)) step(draft);
    return draft;
  };
  // Each step only removes or shortens: the count of steps that fits is found by bisection. The
  // draft of `high` (the fewest steps known to fit) is kept with its count.
  let low = 1;
  let high = steps.length;
  let fitting = apply(high);
  let fittingTokens = tokens(fitting);
  if (fittingTokens > budgetTokens) return { parts: withChecks(fitting), tokens: fittingTokens };
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const draft = apply(mid);
    const draftTokens = tokens(draft);
    if (draftTokens <= budgetTokens) {
      high = mid;
      fitting = draft;
      fittingTokens = draftTokens;
    } else low = mid + 1;
  }
  return { parts: withChecks(fitting), tokens: fittingTokens };
}

/**
 * @internal Tokens of the parts as a checkpoint renders them: `estimateCheckpoint`, which reads
 * only a checkpoint's summary, checks and ledger (and may count a rendering by remembered lines).
 */
export function countParts(estimator: TokenEstimator, parts: CheckpointParts): number {
  return estimator.estimateCheckpoint(parts as Checkpoint);
}

/** The steps that shrink a checkpoint, least needed first. Each removes one item (or shortens one request). */
function dropSteps(base: Draft): Step[] {
  const { ledger, summary } = base;
  const oldestFirst = <T>(items: readonly T[]) => [...items].reverse();
  const steps: Step[] = [];
  const dropFile =
    (path: string): Step =>
    (d) => {
      d.ledger.files = d.ledger.files.filter((f) => f.path !== path);
    };
  const dropCommand =
    (command: string): Step =>
    (d) => {
      d.ledger.commands = d.ledger.commands.filter((c) => c.command !== command);
    };
  const dropItem =
    (section: keyof CheckpointSummary, text: string): Step =>
    (d) => {
      const items = d.summary[section] ?? [];
      const at = items.indexOf(text);
      if (at >= 0) d.summary[section] = [...items.slice(0, at), ...items.slice(at + 1)];
    };
  const dropName =
    (name: string): Step =>
    (d) => {
      d.ledger.names = (d.ledger.names ?? []).filter((n) => n.name !== name);
    };
  const ok = (c: LedgerCommand) => c.status !== 'failed';
  // A test run, a build, a lint, or any command run again and again: part of the workflow.
  const workflow = (c: LedgerCommand) => c.kind === 'command' && (c.runs > 1 || runnerOf(c.command) !== null);
  for (const file of oldestFirst(ledger.files)) if (file.action === 'read') steps.push(dropFile(file.path));
  for (const c of oldestFirst(ledger.commands))
    if (ok(c) && isInspection(c.command)) steps.push(dropCommand(c.command));
  for (const c of oldestFirst(ledger.commands))
    if (ok(c) && !isInspection(c.command) && !workflow(c)) steps.push(dropCommand(c.command));
  for (const item of summary.completed) steps.push(dropItem('completed', item));
  const shownNames = (ledger.names ?? []).filter((n) => n.mentions >= NAME_MIN_MENTIONS);
  for (const n of [...shownNames].reverse()) steps.push(dropName(n.name));
  // Older iterations' lines: the newest stays until the summary goes (the status repeats it).
  for (const line of oldestFirst((ledger.iterationLog ?? []).slice(1)))
    steps.push((d) => {
      d.ledger.iterationLog = (d.ledger.iterationLog ?? []).filter((i) => i.iteration !== line.iteration);
    });
  for (const c of oldestFirst(ledger.commands))
    if (ok(c) && !isInspection(c.command) && workflow(c)) steps.push(dropCommand(c.command));
  for (const file of oldestFirst(ledger.files)) if (file.action !== 'read') steps.push(dropFile(file.path));
  for (const c of oldestFirst(ledger.commands)) if (!ok(c)) steps.push(dropCommand(c.command));
  for (const section of ['blockers', 'decisions', 'pending', 'inProgress', 'goals'] as const)
    for (const item of summary[section] ?? []) steps.push(dropItem(section, item));
  steps.push((d) => {
    d.ledger.iterationLog = [];
  });
  // Reviews and merge resolutions were decided on purpose: they go just before open problems.
  for (const decision of oldestFirst(ledger.decisions ?? []))
    steps.push((d) => {
      d.ledger.decisions = (d.ledger.decisions ?? []).filter((x) => x.key !== decision.key);
    });
  for (const problem of oldestFirst(ledger.problems))
    steps.push((d) => {
      d.ledger.problems = d.ledger.problems.filter((p) => p.key !== problem.key);
    });
  const requests = oldestFirst(ledger.requests);
  requests.forEach((_, i) => {
    const index = ledger.requests.length - 1 - i;
    steps.push((d) => {
      const request = d.ledger.requests[index];
      if (request !== undefined)
        d.ledger.requests[index] = { ...request, text: clip(request.text, SHORT_REQUEST_CHARS) };
    });
  });
  requests.forEach((_, i) => {
    const index = ledger.requests.length - 1 - i;
    // Dropped by position from the end: earlier drops removed only older (later-indexed) requests.
    steps.push((d) => {
      d.ledger.requests = d.ledger.requests.slice(0, index);
    });
  });
  steps.push((d) => {
    d.ledger.status = null;
  });
  return steps;
}

/** Requests cut to their caps: the newest three at 400 characters, the others at 200. */
function capRequests(ledger: SessionLedger): SessionLedger {
  const copy = copyLedger(ledger);
  copy.requests = copy.requests.map((request, index) => ({
    ...request,
    text: clip(request.text, index < NEWEST_REQUESTS ? NEWEST_REQUEST_CHARS : OLDER_REQUEST_CHARS),
  }));
  return copy;
}

const EMPTY_SUMMARY: CheckpointSummary = {
  completed: [],
  inProgress: [],
  pending: [],
  decisions: [],
  blockers: [],
};

function copySummary(summary: CheckpointSummary): CheckpointSummary {
  const copy: CheckpointSummary = {
    completed: [...(summary.completed ?? [])],
    inProgress: [...(summary.inProgress ?? [])],
    pending: [...(summary.pending ?? [])],
    decisions: [...(summary.decisions ?? [])],
    blockers: [...(summary.blockers ?? [])],
  };
  if (summary.goals !== undefined && summary.goals.length > 0) copy.goals = [...summary.goals];
  return copy;
}

function copyLedger(ledger: SessionLedger): SessionLedger {
  return {
    ...ledger,
    files: [...ledger.files],
    commands: [...ledger.commands],
    problems: [...ledger.problems],
    requests: [...ledger.requests],
    status: ledger.status === null ? null : { ...ledger.status },
    ...(ledger.iterationLog ? { iterationLog: [...ledger.iterationLog] } : {}),
    ...(ledger.decisions ? { decisions: [...ledger.decisions] } : {}),
  };
}
