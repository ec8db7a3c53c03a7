/**
 * The prompt that asks a model to fold messages into a checkpoint: pure, so that what is sent can
 * be tested and read. The session's ledger (what code recorded for certain) is shown first, the
 * current summary as JSON, the messages between XML tags; the model is asked only for what code
 * cannot know (goals, work in progress, next steps, decisions with their reasons) and to reconcile
 * contradictions, and answers through the `record_checkpoint` tool.
 */
import type { CheckpointSummary, Message, SessionLedger } from '../core/types.js';
import { contentToText } from '../request/format.js';
import { renderLedgerSections } from '../request/format-ledger.js';
import {
  CHECKPOINT_INPUT_SCHEMA,
  CHECKPOINT_TOOL_NAME,
  type CheckpointInputSchema,
} from './checkpoint-schema.js';

/** What {@link buildCheckpointPrompt} needs. */
export interface CheckpointPromptInput {
  /** The current summary, or null before the first compaction. */
  checkpoint: CheckpointSummary | null;
  /** The session's ledger, with the messages already recorded; null or absent when there is none. */
  ledger?: SessionLedger | null;
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
  'The checkpoint is all the agent will know of the messages it replaces: those messages move to an ' +
    'archive the agent does not read.',
  "A ledger kept by code already records the facts: files and what was done to them, each command's " +
    "last run and outcome, the open problems, the user's own words and the status.",
  'You add only what code cannot know: what the user is after (goals), what is in progress, what comes ' +
    'next, and the decisions taken with their reasons.',
  'Never add anything that the ledger, the current checkpoint or the messages do not say; never copy ' +
    'the agent\'s narration or thinking; never record an intention ("I will...") as a decision.',
  `Answer only by calling the ${CHECKPOINT_TOOL_NAME} tool.`,
].join(' ');

const TOOL_DESCRIPTION =
  'Records the whole new summary of the conversation (not only what changed): goals, work in progress, ' +
  'next steps and decisions, short statements each. Call it exactly once.';

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
      ? `There are no new messages. Rewrite the current checkpoint so that ` +
        `it fits the budget below, then call ${CHECKPOINT_TOOL_NAME} with it.`
      : `Update the checkpoint with what these ${messages.length} messages add, ` +
        `then call ${CHECKPOINT_TOOL_NAME} with the whole new checkpoint.`;
  const ledger = Object.values(renderLedgerSections(input.ledger))
    .filter((section) => section !== '')
    .join('\n\n');
  const content = [
    `<ledger>\n${ledger === '' ? 'Nothing recorded yet.' : escapeTags(ledger)}\n</ledger>`,
    `<current_checkpoint>\n${current}\n</current_checkpoint>`,
    `<messages count="${messages.length}"${range}>\n${rendered.join('\n')}` +
      `${rendered.length > 0 ? '\n' : ''}</messages>`,
    task,
    'Sections:',
    "- goals: what the user is after, in the user's terms, with its definition of done.",
    '- inProgress: work started and not finished, with where it stands.',
    '- pending: what comes next, in order: work asked for or planned and not started.',
    '- decisions: choices made, each with its reason, and rules to keep (what the user asked for or refused).',
    'Rules:',
    input.checkpoint === null
      ? '- Start from an empty checkpoint.'
      : '- Merge with the current checkpoint: keep its items that are still true, drop those the ' +
        'messages or the ledger show done or no longer wanted; never repeat an item.',
    "- Reconcile contradictions: the ledger and the newest messages win over older items; the user's " +
      "corrections win over the agent's plans.",
    "- Do not repeat the ledger (files, commands, open problems, the user's words): the agent sees it " +
      'next to your summary.',
    '- One short statement per item (at most about 30 words), about one thing, that stands on its own: ' +
      'name the files, functions and ids it is about.',
    `- Stay within about ${words.toLocaleString('en-US')} words ` +
      `(${input.budgetTokens.toLocaleString('en-US')} tokens) in all, at most about ${items} items. ` +
      'When everything does not fit, drop the least important first: decisions and next steps that no ' +
      'longer matter; keep goals and work in progress.',
    `- If you cannot call ${CHECKPOINT_TOOL_NAME}, answer with the JSON object of the four arrays alone.`,
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
  return text.replace(/<(\/?(?:messages?|current_checkpoint|ledger)\b)/g, '&lt;$1');
}
