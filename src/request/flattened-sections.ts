/**
 * @internal Live messages as the flattened form sends them: one `### role` section each, joined by
 * blank lines, and what each adds to a request. A session's messages are deep-frozen (the runtime
 * freezes them as it stores them), so a section is rendered once per message and the next request
 * of the session joins the sections it rendered before: rendering every live message again cost
 * about 0.1 ms a request in the replay of the real transcripts at a 20k limit.
 */
import type { Message } from '../core/types.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { contentToText } from './format.js';

/** @internal What joins the parts of a system prompt and the sections of a transcript. */
export const JOIN = '\n\n';

/** Sections of frozen messages, rendered once (a frozen message cannot change). */
const SECTIONS = new WeakMap<Message, string>();

/** Rendered counts of flattened messages, kept per estimator and message (messages are immutable). */
const FLATTENED = new WeakMap<TokenEstimator, WeakMap<object, number>>();

/** @internal One message as a `### role` section of its text ('' for a blank one). */
export function sectionOf(message: Message): string {
  const known = SECTIONS.get(message);
  if (known !== undefined) return known;
  const text = contentToText(message.content).trim();
  const section = text === '' ? '' : `### ${message.role}\n${text}`;
  if (Object.isFrozen(message) && Object.isFrozen(message.content)) SECTIONS.set(message, section);
  return section;
}

/** @internal Live messages as `### role` sections of their text; blank messages are skipped. */
export function renderTranscript(messages: readonly Message[]): string {
  return messages
    .map(sectionOf)
    .filter((section) => section !== '')
    .join(JOIN);
}

/**
 * @internal What a live message adds to a flattened request: its `### role` section as rendered,
 * and the blank line joining it to the next, counted once per message and estimator.
 */
export function flattenedTokens(message: Message, estimator: TokenEstimator): number {
  let cache = FLATTENED.get(estimator);
  if (cache === undefined) {
    cache = new WeakMap();
    FLATTENED.set(estimator, cache);
  }
  const known = cache.get(message);
  if (known !== undefined) return known;
  const section = sectionOf(message);
  const tokens = section === '' ? 0 : estimator.estimate(section) + estimator.estimate(JOIN);
  cache.set(message, tokens);
  return tokens;
}
