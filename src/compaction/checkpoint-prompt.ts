/**
 * The prompt that asks a model to fold messages into a checkpoint: pure, so that what is sent can
 * be tested and read. The messages are rendered between XML tags, the current checkpoint as JSON,
 * and the answer is forced through the `record_checkpoint` tool whose schema is the summary.
 */
import type { CheckpointSummary, Message } from '../core/types.js';
import { contentToText } from '../request/format.js';
import {
  CHECKPOINT_INPUT_SCHEMA,
  CHECKPOINT_TOOL_NAME,
  type CheckpointInputSchema,
} from './checkpoint-schema.js';

/** What {@link buildCheckpointPrompt} needs. */
export interface CheckpointPromptInput {
  /** The current summary, or null before the first compaction. */
  checkpoint: CheckpointSummary | null;
  /** The messages to fold in, oldest first; empty to ask for a shorter checkpoint only. */
  messages: readonly Message[];
  /** Token budget of the whole new summary. */
  budgetTokens: number;
}

/** A Messages API request body, less the model and `max_tokens`. */
export interface CheckpointPrompt {
  system: string;
  messages: [{ role: 'user'; content: string }];
  tool: { name: typeof CHECKPOINT_TOOL_NAME; description: string; input_schema: CheckpointInputSchema };
}

const SYSTEM = [
  'You keep the checkpoint of a long conversation between a user and a software agent.',
  'The checkpoint is all the agent will know of the messages it replaces: those messages move to an archive the agent does not read.',
  'Record facts, not impressions: what was done (files, commands and their outcome, ids, numbers), what is in progress, what is pending, the decisions and rules to keep, and what blocks the work.',
  'Never add anything that the current checkpoint or the messages do not say.',
  `Answer only by calling the ${CHECKPOINT_TOOL_NAME} tool.`,
].join(' ');

const TOOL_DESCRIPTION =
  'Records the whole new checkpoint of the conversation (not only what changed): five lists of short factual statements. ' +
  'Call it exactly once.';

/**
 * Builds the compaction request: a system prompt, one user message holding the current checkpoint
 * (or saying there is none yet), the messages to fold in and the instructions, and the
 * `record_checkpoint` tool to force with `tool_choice: { type: 'tool', name: 'record_checkpoint' }`.
 *
 * The budget is given to the model in words and items, which it can count
 * ({@link budgetInWords}); the caller still measures the answer, since a model only approximates.
 *
 * @param input - The current checkpoint (or null), the messages, and the token budget of the summary.
 * @returns `{ system, messages, tool }`, ready to spread into `messages.create` / `messages.stream`.
 * @example
 * ```ts
 * const prompt = buildCheckpointPrompt({ checkpoint: null, messages, budgetTokens: 2_000 });
 * await client.messages.stream({ model, max_tokens: 4_096, system: prompt.system, messages: prompt.messages,
 *   tools: [prompt.tool], tool_choice: { type: 'tool', name: prompt.tool.name } });
 * ```
 */
export function buildCheckpointPrompt(input: CheckpointPromptInput): CheckpointPrompt {
  const { words, items } = budgetInWords(input.budgetTokens);
  const messages = input.messages;
  const current =
    input.checkpoint === null
      ? 'There is no checkpoint yet: this is the first compaction of this conversation.'
      : JSON.stringify(input.checkpoint, null, 1);
  const first = messages[0];
  const last = messages[messages.length - 1];
  const range = first && last ? ` first_seq="${first.seq}" last_seq="${last.seq}"` : '';
  const rendered = messages.map(
    (m) => `<message seq="${m.seq}" role="${m.role}">\n${escapeTags(contentToText(m.content))}\n</message>`,
  );
  const task =
    messages.length === 0
      ? `There are no new messages. Rewrite the current checkpoint so that it fits the budget below, then call ${CHECKPOINT_TOOL_NAME} with it.`
      : `Update the checkpoint with what these ${messages.length} messages add, then call ${CHECKPOINT_TOOL_NAME} with the whole new checkpoint.`;
  const content = [
    `<current_checkpoint>\n${current}\n</current_checkpoint>`,
    `<messages count="${messages.length}"${range}>\n${rendered.join('\n')}${rendered.length > 0 ? '\n' : ''}</messages>`,
    task,
    'Sections:',
    '- completed: work that is done, with its result (files changed, commands run and how they ended).',
    '- inProgress: work started and not finished, with where it stands.',
    '- pending: work asked for or planned and not started.',
    '- decisions: choices made and rules to keep (APIs, formats, conventions, what the user asked for or refused).',
    '- blockers: open problems (failing commands or tests with their first error line, missing information).',
    'Rules:',
    input.checkpoint === null
      ? '- Start from an empty checkpoint.'
      : '- Merge with the current checkpoint: keep its items that are still true; move an item to completed when the messages show it finished; remove a blocker the messages show resolved; never repeat an item.',
    '- One short factual statement per item (at most about 30 words) that stands on its own: name the files, commands, functions, ids and numbers it is about.',
    `- Stay within about ${words.toLocaleString('en-US')} words (${input.budgetTokens.toLocaleString('en-US')} tokens) in all, at most about ${items} items. ` +
      'When everything does not fit, drop the least important first: the oldest completed items, then decisions and pending items that no longer matter; keep open work (in progress, blockers) and recent results.',
    `- If you cannot call ${CHECKPOINT_TOOL_NAME}, answer with the JSON object of the five arrays alone.`,
  ].join('\n');
  return {
    system: SYSTEM,
    messages: [{ role: 'user', content }],
    tool: {
      name: CHECKPOINT_TOOL_NAME,
      description: TOOL_DESCRIPTION,
      input_schema: structuredClone(CHECKPOINT_INPUT_SCHEMA),
    },
  };
}

/**
 * @internal A token budget as a model can follow it: about 0.7 words per token, and an item count
 * assuming about 30 tokens per item; at least 20 words and 3 items.
 */
export function budgetInWords(budgetTokens: number): { words: number; items: number } {
  const tokens = Number.isFinite(budgetTokens) ? Math.max(0, budgetTokens) : 0;
  return { words: Math.max(20, Math.floor(tokens * 0.7)), items: Math.max(3, Math.floor(tokens / 30)) };
}

/** @internal Keeps message text from closing or opening the prompt's own tags. */
function escapeTags(text: string): string {
  return text.replace(/<(\/?(?:messages?|current_checkpoint)\b)/g, '&lt;$1');
}
