/**
 * The "model" behind the test Messages API server: deterministic answers built from what it was
 * sent, as a Message and as the server-sent events of a stream, good or faulty on purpose.
 */
import type { CheckpointSummary } from '../../src/core/types.js';
import type { Behaviour } from './messages-api-server.js';

/** A Message as the API sends it. */
export interface WireMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<Record<string, unknown>>;
  stop_reason: string;
  stop_sequence: null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    service_tier: 'standard';
  };
}

/** @internal The answer to one request, and what its stream carries in its only content block. */
export interface Reply {
  message: WireMessage;
  /** The streamed block: a tool call with its JSON input text as streamed, or text. */
  block: { type: 'tool_use'; id: string; name: string; json: string } | { type: 'text'; text: string };
}

const FILE =
  /\b[\w.-]*(?:\/[\w.-]+)*\.(?:ts|tsx|js|mjs|cjs|jsx|json|md|py|go|rs|java|rb|css|scss|html|ya?ml|toml|sh|sql|txt)\b/g;
const COMMAND =
  /\b(?:npm|npx|pnpm|yarn|git|node|python3?|pytest|cargo|make|go|ls|cat|grep|sed)\s[^\n"`\\]{1,40}/;
const EMPTY: CheckpointSummary = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
const KEYS = Object.keys(EMPTY) as Array<Exclude<keyof CheckpointSummary, 'goals'>>;
let serial = 0;

/**
 * @internal The summary a "model" would record for a checkpoint prompt: the checkpoint found
 * between `<current_checkpoint>` tags carried over, one `completed` item per `<message>` that
 * mentions a file or a command, a `pending` item per TODO, a blocker per failed tool call, then
 * items dropped (oldest completed first) until it fits "within about N words". Deterministic.
 */
export function summaryFromPrompt(prompt: string): CheckpointSummary {
  const previous = existingCheckpoint(prompt);
  const summary: CheckpointSummary = { ...EMPTY, ...structuredClone(previous) };
  let lastSeq: string | null = null;
  for (const match of prompt.matchAll(/<message seq="(\d+)" role="(\w+)">\n([\s\S]*?)\n<\/message>/g)) {
    const [, seq = '', role = '', text = ''] = match;
    lastSeq = seq;
    const files = [...new Set(text.match(FILE) ?? [])].slice(0, 2);
    const command = COMMAND.exec(text)?.[0].trim();
    const mentions = [...files, ...(command ? [`\`${command}\``] : [])];
    if (mentions.length > 0)
      summary.completed.push(`message ${seq} (${role}): ${mentions.join(', ')}`.slice(0, 160));
    const todo = /TODO[:\s]+([^\n]{1,60})/.exec(text);
    if (todo) summary.pending.push(`message ${seq}: TODO ${todo[1]?.trim() ?? ''}`);
    if (text.includes('[error]')) summary.blockers.push(`message ${seq}: a tool call failed`);
  }
  if (lastSeq !== null) summary.inProgress = [`continuing after message ${lastSeq}`];
  for (const key of KEYS) summary[key] = [...new Set(summary[key])];
  const budget = /within about ([\d,]+) words/.exec(prompt);
  const words = budget ? Number(budget[1]?.replace(/,/g, '')) : Number.POSITIVE_INFINITY;
  const size = () =>
    KEYS.reduce((sum, key) => sum + summary[key].reduce((s, item) => s + item.split(/\s+/).length + 1, 0), 0);
  for (const key of ['completed', 'pending', 'decisions', 'blockers', 'inProgress'] as const) {
    while (size() > words && summary[key].length > 0) summary[key].shift();
  }
  return summary;
}

function existingCheckpoint(prompt: string): CheckpointSummary {
  const found = /<current_checkpoint>\s*([\s\S]*?)\s*<\/current_checkpoint>/.exec(prompt)?.[1] ?? '';
  if (!found.startsWith('{')) return EMPTY;
  try {
    const value = JSON.parse(found) as Partial<CheckpointSummary>;
    return Object.fromEntries(
      KEYS.map((key) => [
        key,
        Array.isArray(value[key]) ? value[key].filter((i) => typeof i === 'string') : [],
      ]),
    ) as unknown as CheckpointSummary;
  } catch {
    return EMPTY;
  }
}

/** @internal The text of the last user message of a request. */
function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages)
    ? (body.messages as Array<{ role?: unknown; content?: unknown }>)
    : [];
  const last = [...messages].reverse().find((m) => m?.role === 'user');
  const content = last?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: { text?: unknown; content?: unknown }) =>
      typeof block?.text === 'string' ? block.text : typeof block?.content === 'string' ? block.content : '',
    )
    .join('\n');
}

/**
 * @internal The answer to a Messages API request under `behaviour`: a `record_checkpoint` tool
 * call when the request forces that tool, an echo of the last user message otherwise, or the
 * faulty variant the behaviour asks for.
 */
export function buildReply(
  body: Record<string, unknown>,
  behaviour: Behaviour,
  count: (text: string) => number,
): Reply {
  serial++;
  const id = String(serial).padStart(6, '0');
  const choice = body.tool_choice as { type?: unknown; name?: unknown } | undefined;
  const forced = choice?.type === 'tool' && choice.name === 'record_checkpoint';
  const prompt = lastUserText(body);
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 4_096;
  let block: Reply['block'];
  let stopReason = 'end_turn';
  let input: unknown;
  const summary = () => summaryFromPrompt(prompt);
  switch (behaviour.kind) {
    case 'bad-tool-input':
      input = behaviour.input ?? { completed: 'everything', inProgress: [42], pending: [] };
      block = { type: 'tool_use', id: `toolu_${id}`, name: 'record_checkpoint', json: JSON.stringify(input) };
      stopReason = 'tool_use';
      break;
    case 'plain-json-text': {
      const json = JSON.stringify(summary(), null, 2);
      block = {
        type: 'text',
        text: behaviour.fenced
          ? `Here is the updated checkpoint:\n\n\`\`\`json\n${json}\n\`\`\`\n\nI kept the existing items.`
          : json,
      };
      break;
    }
    case 'prose':
      block = {
        type: 'text',
        text: 'I read the conversation. The work is going well: the parser was fixed and the tests pass.',
      };
      break;
    default:
      if (forced && behaviour.kind === 'malformed-json' && behaviour.in === 'tool-input') {
        block = {
          type: 'tool_use',
          id: `toolu_${id}`,
          name: 'record_checkpoint',
          json: '{"completed": ["ran the tests", oops], "inProgress": }',
        };
        stopReason = 'tool_use';
      } else if (forced) {
        input = summary();
        block = {
          type: 'tool_use',
          id: `toolu_${id}`,
          name: 'record_checkpoint',
          json: JSON.stringify(input),
        };
        stopReason = 'tool_use';
      } else {
        // A malformed body (the other malformed-json) is broken by the server, not here.
        block = { type: 'text', text: `Echo: ${prompt}` };
      }
  }
  let output = block.type === 'tool_use' ? block.json : block.text;
  if (behaviour.kind === 'max-tokens') {
    // Cut in the middle, as a model that ran out of output tokens.
    output = output.slice(0, Math.max(1, Math.floor(output.length / 2)));
    block = block.type === 'tool_use' ? { ...block, json: output } : { type: 'text', text: output };
    input = {};
    stopReason = 'max_tokens';
  }
  const content =
    block.type === 'tool_use'
      ? [{ type: 'tool_use', id: block.id, name: block.name, input: input ?? {} }]
      : [{ type: 'text', text: block.text, citations: null }];
  const message: WireMessage = {
    id: `msg_${id}`,
    type: 'message',
    role: 'assistant',
    model: typeof body.model === 'string' ? body.model : 'unknown',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: 0,
      output_tokens: behaviour.kind === 'max-tokens' ? maxTokens : Math.max(1, count(output)),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      service_tier: 'standard',
    },
  };
  return { message, block };
}

/**
 * @internal The server-sent events of a streamed reply, each one `event: <type>\ndata: <json>\n\n`:
 * message_start, ping, content_block_start, content_block_delta (text_delta or
 * input_json_delta, `chunkChars` characters each), content_block_stop, message_delta,
 * message_stop. A `malformed-json` fault (in the body) breaks the JSON of the middle event.
 */
export function replyEvents(reply: Reply, behaviour: Behaviour, chunkChars: number): string[] {
  const { message, block } = reply;
  const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const events = [
    sse('message_start', {
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
    }),
    sse('ping', { type: 'ping' }),
  ];
  const start =
    block.type === 'tool_use'
      ? { type: 'tool_use', id: block.id, name: block.name, input: {} }
      : { type: 'text', text: '', citations: null };
  events.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: start }));
  const text = block.type === 'tool_use' ? block.json : block.text;
  for (let at = 0; at < text.length; at += chunkChars) {
    const piece = text.slice(at, at + chunkChars);
    const delta =
      block.type === 'tool_use'
        ? { type: 'input_json_delta', partial_json: piece }
        : { type: 'text_delta', text: piece };
    events.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta }));
  }
  events.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  events.push(
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    }),
  );
  events.push(sse('message_stop', { type: 'message_stop' }));
  if (behaviour.kind === 'malformed-json' && behaviour.in !== 'tool-input') {
    const middle = Math.max(3, Math.floor(events.length / 2));
    events[middle] =
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_del\n\n';
  }
  return events;
}
