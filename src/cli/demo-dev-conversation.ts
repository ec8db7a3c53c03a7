/**
 * @internal The demo's Dev conversation: a deterministic, scripted dev-agent session over this
 * package's own files (the TypeScript sources in a checkout, the compiled JavaScript in an
 * install, the docs and the README in both), in the transcript format of the shared transcripts.
 * It is made when the demo runs (about 0.2 s) rather than shipped: the same files give the same
 * conversation. `npx tsx scripts/make-demo-conversation.ts FILE` writes it to a file.
 */
import { createHash } from 'node:crypto';
import { collectSources, type SourceFile } from './demo-sources.js';
import { TOPICS } from './demo-topics.js';
import { createDemoTools, testFileOf } from './demo-tools.js';

export { collectSources, type SourceFile } from './demo-sources.js';

/** One message of the transcript format (`role`, `content`, `toolName?`). */
export interface DemoMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string;
  toolName?: string;
}

/** The fixture: a transcript with `meta` describing how it was made. */
export interface DemoConversation {
  source: string;
  license: string;
  messages: DemoMessage[];
  meta: Record<string, unknown>;
}

/** Sizes the generator aims for. */
export interface DemoConversationOptions {
  /** Approximate tokens (chars / 4) to aim for. Default 200,000. */
  targetTokens?: number;
  /**
   * Cap on messages, met by reading less. Default 400. The scripted rounds themselves (about 250
   * messages) are always produced, so a cap below that is not honoured.
   */
  maxMessages?: number;
  /** Lines shown per `Read`. Default 150. */
  readLines?: number;
}

const approxTokens = (text: string): number => Math.ceil(text.length / 4);

/** @internal The export lines of a TypeScript file (its API at a glance), for the agent's notes. */
function exportsOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^export (?:async )?(?:function|class|const|interface|type|abstract class) /.test(l))
    .map((l) => l.replace(/\s*\{?\s*$/, '').slice(0, 160))
    .slice(0, 10);
}

/**
 * Builds the scripted session from the given files (sorted by the caller or not: they are sorted
 * here). Pure and deterministic: the same files give the same conversation.
 *
 * @param files - the project's sources (`src/**\/*.ts`, `machines/**\/*.ts`, docs, README).
 * @param options - size targets.
 * @returns the conversation in transcript format.
 * @throws Error when `files` is empty.
 * @example
 * ```ts
 * const demo = makeDemoConversation(await collectSources(root));
 * await writeFile('demo-conversation.json', JSON.stringify(demo, null, 1));
 * ```
 */
export function makeDemoConversation(
  files: readonly SourceFile[],
  options: DemoConversationOptions = {},
): DemoConversation {
  const targetTokens = options.targetTokens ?? 200_000;
  const maxMessages = options.maxMessages ?? 400;
  const readLines = options.readLines ?? 150;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (sorted.length === 0) throw new Error('makeDemoConversation: no source files to read');
  const byPath = new Map(sorted.map((f) => [f.path, f]));

  const messages: DemoMessage[] = [];
  let tokens = 0;
  const say = (role: 'user' | 'assistant', content: string): void => {
    messages.push({ role, content });
    tokens += approxTokens(content);
  };
  const calls = (toolName: string, pairs: readonly (readonly [call: string, result: string])[]): void => {
    // Parallel calls: N calls, then N results, as the transcript format records them.
    for (const [call] of pairs) messages.push({ role: 'assistant', content: call, toolName });
    for (const [call, result] of pairs) {
      messages.push({ role: 'tool', content: result, toolName });
      tokens += approxTokens(call) + approxTokens(result);
    }
  };

  const { tsFiles, read, grep, edit, npmTest, nextRead, filesFor } = createDemoTools(sorted, readLines);

  const done: string[] = [];
  const open: string[] = [];
  const todos = (): string =>
    [...done.map((t) => `☒ ${t}`), ...open.map((t) => `☐ ${t}`)].join('\n') || '☐ (nothing yet)';

  TOPICS.forEach((topic, round) => {
    const left = TOPICS.length - round;
    // This round's share of what is left of the token target and of the message cap.
    const tokenShare = (targetTokens - tokens) / left;
    const messageShare = (maxMessages - 4 - messages.length) / left;
    const roundTokens = tokens;
    const roundMessages = messages.length;
    const files = filesFor(topic, 4);
    const [main = sorted[0]?.path ?? '', ...others] = files;

    say('user', topic.ask);
    say('assistant', topic.plan);
    open.push(...topic.todos);
    if (round % 5 === 0) calls('Update Todos', [['Update Todos', todos()]]);

    const batch = [main, ...others.slice(0, 3)];
    calls('Read', batch.map(read));
    const notes = batch.map((p) => {
      const text = byPath.get(p)?.text ?? '';
      const api = exportsOf(text).map((l) => `    ${l}`);
      return [`- \`${p}\` (${text.split('\n').length} lines)`, ...api].join('\n');
    });
    say('assistant', `What I see so far:\n${notes.join('\n')}\n\n${topic.finding}`);
    calls('Grep', [grep(topic.grep)]);
    say(
      'assistant',
      `${topic.resolves === undefined ? '' : `Resolved: ${topic.resolves}\n\n`}Decided: ${topic.decision}`,
    );
    calls('Edit', [edit(main, topic.grep, topic.comment)]);
    const failingFile =
      testFileOf(main) ??
      testFileOf(tsFiles[round % Math.max(1, tsFiles.length)]?.path ?? '') ??
      'test/core/ids.test.ts';
    calls('Bash', [
      npmTest({ file: failingFile, test: topic.failingTest, error: topic.failure, frame: main }),
    ]);
    say(
      'assistant',
      `${topic.diagnosis}${topic.blocker === undefined ? '' : `\n\nBlocked: ${topic.blocker}`}`,
    );
    calls('Edit', [edit(main, /throw |return |await /, topic.fixComment)]);
    calls('Bash', [npmTest()]);

    // Read on (callers, neighbours, the rest of long files) while under this round's shares.
    const tail =
      4 + (topic.question === undefined ? 0 : 2) + (round % 5 === 4 || round === TOPICS.length - 1 ? 2 : 0);
    for (
      let batches = 0;
      tokens - roundTokens < tokenShare && messages.length - roundMessages + tail + 3 <= messageShare;
      batches++
    ) {
      const room = Math.floor((messageShare - (messages.length - roundMessages) - tail - 1) / 2);
      const paths: string[] = [];
      while (paths.length < Math.max(1, Math.min(4, room)) && paths.length < sorted.length)
        paths.push(nextRead(files, new Set(paths)));
      if (batches === 0)
        say(
          'assistant',
          `Checking how ${paths.map((p) => `\`${p}\``).join(', ')} ${paths.length > 1 ? 'fit' : 'fits'} with this.`,
        );
      calls('Read', paths.map(read));
    }
    if (topic.question !== undefined) {
      say('user', topic.question.ask);
      say('assistant', topic.question.answer);
    }
    for (const todo of [...topic.todos, ...(topic.closes === undefined ? [] : [topic.closes])]) {
      const at = open.indexOf(todo);
      if (at >= 0) done.push(...open.splice(at, 1));
    }
    if (topic.todoLater !== undefined) open.push(topic.todoLater);
    if (round % 5 === 4 || round === TOPICS.length - 1) calls('Update Todos', [['Update Todos', todos()]]);
    say(
      'assistant',
      `Progress: ${topic.progress}${topic.todoLater !== undefined ? `\nTODO: ${topic.todoLater}` : ''}`,
    );
  });
  say('user', 'Good. Summarise where we are.');
  say(
    'assistant',
    `Summary of this ` +
      `session:\n${done.map((t) => `- done: ${t}`).join('\n')}\n${open.map((t) => `- TODO: ${t}`).join('\n')}\n` +
      'All tests pass. Decisions are recorded above as "Decided:" notes; every blocker raised was resolved.',
  );

  const counts: Record<string, number> = {};
  for (const m of messages) counts[m.role] = (counts[m.role] ?? 0) + 1;
  const textChars = messages.reduce((n, m) => n + m.content.length, 0);
  return {
    source: 'dagent-sessions:src/cli/demo-dev-conversation.ts',
    license: 'MIT',
    messages,
    meta: {
      id: 'demo-conversation',
      format: 'scripted-dev-session',
      generator: 'dagent-sessions demo (src/cli/demo-dev-conversation.ts)',
      note:
        "A deterministic, scripted dev-agent session over this project's own sources; tool output is " +
        'abridged or synthesised.',
      files: sorted.map((f) => f.path),
      sources_sha256: createHash('sha256')
        .update(sorted.map((f) => `${f.path}\0${f.text}`).join('\0'))
        .digest('hex'),
      text_chars: textChars,
      approx_tokens: messages.reduce((n, m) => n + approxTokens(m.content), 0),
      message_counts: counts,
      tool_calls: messages.filter((m) => m.role === 'assistant' && m.toolName !== undefined).length,
    },
  };
}

/** The sizes of the demo's conversation: long enough that a 100,000-token session compacts several times. */
export const DEMO_CONVERSATION_SIZE: Readonly<DemoConversationOptions> = {
  maxMessages: 700,
  readLines: 300,
  targetTokens: 380_000,
};

/**
 * The demo's Dev conversation, made from the files of the package at `root`.
 *
 * @param root - the package root (see {@link collectSources}).
 * @returns the conversation; its `meta` says how it was made and from which files.
 * @throws Error when `root` has none of the files it reads.
 * @example const { messages } = await demoDevConversation(packageRoot());
 */
export async function demoDevConversation(root: string): Promise<DemoConversation> {
  return makeDemoConversation(await collectSources(root), DEMO_CONVERSATION_SIZE);
}
