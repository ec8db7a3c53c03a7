/**
 * Folding facts into a checkpoint summary: existing items are kept, new ones appended (a repeated
 * item moves to the end, as the newest), open items reported done move to `completed`, and
 * blockers whose command or tool later succeeded leave `blockers`.
 */
import type { CheckpointSummary } from '../core/types.js';
import type { Fact } from './extract.js';
import { PATH_RE, isTrivialCommand } from './extract-tools.js';

type Section = keyof CheckpointSummary;

/** @internal Most items kept in `inProgress`; older ones go back to `pending` (or go, if new). */
export const MAX_IN_PROGRESS = 5;

const SECTIONS: readonly Section[] = ['completed', 'inProgress', 'pending', 'decisions', 'blockers'];
const STOPWORDS = new Set(
  'the and for with that this from into then than them they have has had was were are been being will would should could can not but all any its our out now let just also some more most very what when where which while who why how use used using file files make made run ran done user asked'.split(
    ' ',
  ),
);

/**
 * @internal A copy of `value` with the five sections as arrays of non-blank strings; anything else
 * (null, missing sections, non-string items) is dropped.
 */
export function normaliseSummary(value: unknown): CheckpointSummary {
  const source =
    value !== null && typeof value === 'object' ? (value as Partial<Record<Section, unknown>>) : {};
  const pick = (section: Section): string[] => {
    const items = source[section];
    return Array.isArray(items)
      ? items.filter((item): item is string => typeof item === 'string' && item.trim() !== '')
      : [];
  };
  return {
    completed: pick('completed'),
    inProgress: pick('inProgress'),
    pending: pick('pending'),
    decisions: pick('decisions'),
    blockers: pick('blockers'),
  };
}

/** @internal The dedupe key of an item: lower case, whitespace collapsed, no trailing punctuation. */
export function itemKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!…:;,]+$/, '');
}

interface Features {
  keys: Set<string>;
  words: Set<string>;
}

/**
 * @internal Whether two items are about the same thing: they name the same command or file
 * (a backticked span or a path), or at least half of their content words are shared.
 * `cache` memoises the features of items compared often.
 */
export function itemsMatch(a: string, b: string, cache?: Map<string, Features>): boolean {
  const fa = features(a, cache);
  const fb = features(b, cache);
  for (const key of fa.keys) if (fb.keys.has(key)) return true;
  return jaccard(fa.words, fb.words) >= 0.5;
}

/**
 * @internal Whether `a` and `b` say the same thing in other words: they name the same commands
 * and files (or none) and share at least 60% of their content words.
 */
export function nearDuplicate(a: string, b: string, cache?: Map<string, Features>): boolean {
  const fa = features(a, cache);
  const fb = features(b, cache);
  if (fa.keys.size !== fb.keys.size || [...fa.keys].some((key) => !fb.keys.has(key))) return false;
  return jaccard(fa.words, fb.words) >= 0.6;
}

/** @internal Whether `a` and `b` share a content word (how a strong completion finds the blocker it ends). */
function shareTopic(a: string, b: string, cache: Map<string, Features>): boolean {
  const wb = features(b, cache).words;
  for (const word of features(a, cache).words) if (word.length >= 4 && wb.has(word)) return true;
  return false;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size < 2 || b.size < 2) return 0;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}

function features(text: string, cache: Map<string, Features> | undefined): Features {
  const cached = cache?.get(text);
  if (cached !== undefined) return cached;
  const keys = new Set<string>();
  for (const match of text.matchAll(/`([^`]{2,})`/g)) keys.add((match[1] ?? '').toLowerCase().trim());
  for (const match of text.matchAll(PATH_RE)) keys.add(match[0].toLowerCase().replace(/[.,:;)]+$/, ''));
  const words = new Set<string>();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) ?? []) {
    if (!STOPWORDS.has(word)) words.add(word.replace(/(?:ing|ed|es|s)$/, '') || word);
  }
  const result = { keys, words };
  cache?.set(text, result);
  return result;
}

/**
 * @internal Applies facts, in order, to a working copy of a summary. Deterministic: the result
 * depends only on the base summary and the facts.
 */
export class SummaryBuilder {
  private readonly s: CheckpointSummary;
  private readonly baseInProgress: Set<string>;
  private readonly reads: string[] = [];
  private readonly cache = new Map<string, Features>();
  private readonly capInProgress: boolean;

  /**
   * @param base - The summary to start from (normalised; not modified).
   * @param options - `capInProgress` (default true): keep at most {@link MAX_IN_PROGRESS} in-progress items.
   */
  constructor(base: CheckpointSummary | null, options: { capInProgress?: boolean } = {}) {
    this.s = normaliseSummary(base);
    this.baseInProgress = new Set(this.s.inProgress.map(itemKey));
    this.capInProgress = options.capInProgress ?? true;
  }

  /** Applies one fact. */
  apply(fact: Fact): void {
    switch (fact.type) {
      case 'statement':
        if (fact.kind === 'completed') this.complete(fact.text, fact.strong === true);
        else if (fact.kind === 'inProgress') this.start(fact.text);
        else if (fact.kind === 'pending') this.plan(fact.text);
        else this.add(fact.kind === 'decision' ? 'decisions' : 'blockers', fact.text);
        return;
      case 'command':
        return this.ended(fact.command, fact.ok, fact.error, true);
      case 'tool':
        return this.ended(fact.label, fact.ok, fact.error, false);
      case 'file':
        return this.complete(`${fact.action} \`${fact.path}\``, false, true);
      case 'read':
        if (!this.reads.includes(fact.path)) this.reads.push(fact.path);
        return;
    }
  }

  /** The summary so far: reads folded into one item, `inProgress` capped at {@link MAX_IN_PROGRESS}. */
  result(): CheckpointSummary {
    const s = normaliseSummary(this.s);
    if (this.reads.length > 0) {
      const shown: string[] = [];
      let length = 0;
      for (const path of this.reads) {
        if (length + path.length > 150) break;
        shown.push(`\`${path}\``);
        length += path.length + 4;
      }
      const more = this.reads.length - shown.length;
      addTo(
        s.completed,
        shown.length === 0
          ? `read ${more} files`
          : `read ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
      );
    }
    if (this.capInProgress && s.inProgress.length > MAX_IN_PROGRESS) {
      const overflow = s.inProgress.splice(0, s.inProgress.length - MAX_IN_PROGRESS);
      for (const item of overflow) if (this.baseInProgress.has(itemKey(item))) addTo(s.pending, item);
    }
    return s;
  }

  /**
   * `text` is done: matching open items move to `completed` (a file edit only completes work in
   * progress: editing a file named in a request does not fulfil it); a strong completion (fixed,
   * tests pass) also resolves the blockers it shares a topic with.
   */
  private complete(text: string, strong: boolean, fileEdit = false): void {
    for (const section of fileEdit ? (['inProgress'] as const) : (['inProgress', 'pending'] as const)) {
      const moved = this.s[section].filter((item) => itemsMatch(item, text, this.cache));
      if (moved.length === 0) continue;
      this.s[section] = this.s[section].filter((item) => !moved.includes(item));
      for (const item of moved) addTo(this.s.completed, item);
    }
    if (strong) {
      const resolved = this.s.blockers.filter(
        (item) => itemsMatch(item, text, this.cache) || shareTopic(item, text, this.cache),
      );
      this.s.blockers = this.s.blockers.filter((item) => !resolved.includes(item));
      for (const item of resolved) addTo(this.s.completed, `resolved: ${item}`);
    }
    addTo(this.s.completed, text, this.cache);
  }

  private start(text: string): void {
    this.s.pending = this.s.pending.filter((item) => !itemsMatch(item, text, this.cache));
    addTo(this.s.inProgress, text, this.cache);
  }

  private plan(text: string): void {
    const key = itemKey(text);
    if (
      this.s.completed.some((item) => itemKey(item) === key) ||
      this.s.inProgress.some((item) => itemKey(item) === key)
    )
      return;
    addTo(this.s.pending, text, this.cache);
  }

  private add(section: Section, text: string): void {
    addTo(this.s[section], text, this.cache);
  }

  /**
   * A command or tool ended: success resolves its earlier failures, failure replaces them (one
   * blocker per command), an unknown outcome (no result among the messages) changes no blocker.
   */
  private ended(label: string, ok: boolean | null, error: string | undefined, isCommand: boolean): void {
    const prefix = `\`${label}\` failed`.toLowerCase();
    const earlier =
      ok === null ? [] : this.s.blockers.filter((item) => item.toLowerCase().startsWith(prefix));
    this.s.blockers = this.s.blockers.filter((item) => !earlier.includes(item));
    if (ok === false) {
      addTo(this.s.blockers, `\`${label}\` failed${error === undefined ? '' : `: ${error}`}`);
      return;
    }
    for (const item of earlier) addTo(this.s.completed, `resolved: ${item}`);
    if (isCommand && (earlier.length > 0 || !isTrivialCommand(label))) {
      this.complete(ok === true ? `ran \`${label}\` (ok)` : `ran \`${label}\``, false);
    }
  }
}

/**
 * Appends `text` to `items`, first removing an item with the same key, or (given a feature cache)
 * a near duplicate, so that the newest wording is kept, as the newest item.
 */
function addTo(items: string[], text: string, cache?: Map<string, Features>): void {
  const key = itemKey(text);
  if (key === '') return;
  const index = items.findIndex(
    (item) => itemKey(item) === key || (cache !== undefined && nearDuplicate(item, text, cache)),
  );
  if (index >= 0) items.splice(index, 1);
  items.push(text);
}

/**
 * Merges two checkpoint summaries, `update` being the newer: every item of both is kept once,
 * items of `base` that `update` reports completed move to `completed`, and pending items of `base`
 * that `update` has in progress move to `inProgress`.
 *
 * @param base - The older summary.
 * @param update - The newer summary.
 * @returns A new summary; neither argument is modified.
 * @example
 * ```ts
 * mergeSummaries(
 *   { completed: [], inProgress: ['write the parser in `src/parser.ts`'], pending: [], decisions: [], blockers: [] },
 *   { completed: ['edited `src/parser.ts`'], inProgress: [], pending: [], decisions: [], blockers: [] },
 * ).completed; // ['write the parser in `src/parser.ts`', 'edited `src/parser.ts`']
 * ```
 */
export function mergeSummaries(base: CheckpointSummary, update: CheckpointSummary): CheckpointSummary {
  const builder = new SummaryBuilder(base, { capInProgress: false });
  const next = normaliseSummary(update);
  for (const section of SECTIONS) {
    for (const text of next[section]) {
      const kind = section === 'decisions' ? 'decision' : section === 'blockers' ? 'blocker' : section;
      builder.apply({ type: 'statement', kind, text });
    }
  }
  return builder.result();
}
