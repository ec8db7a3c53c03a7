/**
 * Noise in a checkpoint: items that copy the agent's `<thinking>` or its narration, intentions
 * filed as decisions, and blockers that report no failure. Measured on every string of the
 * checkpoint's summary and ledger, whatever their shape, against the raw transcript.
 */
import type { Checkpoint } from '../../src/core/types.js';
import { normalise } from './probes.js';

/** One string of a checkpoint, with the section (or ledger key path) it sits in. */
export interface CheckpointItem {
  section: string;
  text: string;
}

/** Normalised texts of the transcript: thinking, assistant prose, and everything else. */
export interface NoiseCorpus {
  thinking: string;
  narration: string;
  /** User messages, tool calls and tool results: copying these is evidence, not noise. */
  other: string;
}

/** Noise counts of a set of items. */
export interface NoiseCount {
  items: number;
  thinking: number;
  narration: number;
  intentions: number;
  blockersWithoutFailure: number;
  /** Items with at least one kind of noise. */
  noisy: number;
}

/** Shortest normalised item judged as a copy; shorter ones are names, paths and commands. */
const COPY_MIN = 30;
/** Fewest words of a copied sentence: a single long identifier is a name, not narration. */
const COPY_MIN_WORDS = 4;
const INTENTION =
  /^(?:(?:i|we)\s*(?:will|'ll|am going to|'m going to|are going to)|let me|let's|now i|next,? i)\b/;
const FAILURE = new RegExp(
  String.raw`fail|error|exception|traceback|not found|denied|rejected|blocked|block|exit(?: code)?:? [1-9]|` +
    String.raw`interrupt|timed out|crash|cannot|can't|unable`,
);

/**
 * The items of a checkpoint: every string of a list, and every object of a list as one item (its
 * strings joined), in the summary and in the ledger; items under 8 characters are left out.
 */
export function checkpointItems(checkpoint: Checkpoint): CheckpointItem[] {
  const items: CheckpointItem[] = [];
  const push = (section: string, text: string): void => {
    if (text.trim().length >= 8) items.push({ section, text });
  };
  const walk = (value: unknown, section: string): void => {
    if (typeof value === 'string') push(section, value);
    else if (Array.isArray(value)) {
      for (const v of value) {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) push(section, leaves(v).join(' · '));
        else walk(v, section);
      }
    } else if (value !== null && typeof value === 'object')
      for (const [key, v] of Object.entries(value)) walk(v, section === '' ? key : `${section}.${key}`);
  };
  walk(checkpoint.summary, '');
  walk((checkpoint as { ledger?: unknown }).ledger, 'ledger');
  return items;
}

/** Counts the noise of `items` against the transcript. */
export function countNoise(items: readonly CheckpointItem[], corpus: NoiseCorpus): NoiseCount {
  const count: NoiseCount = {
    items: items.length,
    thinking: 0,
    narration: 0,
    intentions: 0,
    blockersWithoutFailure: 0,
    noisy: 0,
  };
  for (const item of items) {
    const text = normalise(item.text).replace(/^user(?: asked)?: /, '');
    const probe = text.slice(0, 60);
    const copied =
      text.length >= COPY_MIN && text.split(' ').length >= COPY_MIN_WORDS && !corpus.other.includes(probe);
    const thinking = /<\/?thinking>|✻ thinking/.test(text) || (copied && corpus.thinking.includes(probe));
    const narration = !thinking && copied && corpus.narration.includes(probe);
    const intention = /decision/i.test(item.section) && INTENTION.test(text);
    const blocker =
      /blocker|problem/i.test(item.section) && !FAILURE.test(text) && !corpus.other.includes(probe);
    if (thinking) count.thinking++;
    if (narration) count.narration++;
    if (intention) count.intentions++;
    if (blocker) count.blockersWithoutFailure++;
    if (thinking || narration || intention || blocker) count.noisy++;
  }
  return count;
}

function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [];
}
