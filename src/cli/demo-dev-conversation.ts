/**
 * @internal The demo's Dev conversation: a deterministic, scripted dev-agent session over this
 * package's own files (the TypeScript sources in a checkout, the compiled JavaScript in an
 * install, the docs and the README in both), in the transcript format of the shared transcripts.
 * It is made when the demo runs (about 0.2 s) rather than shipped: the same files give the same
 * conversation. `npx tsx scripts/make-demo-conversation.ts FILE` writes it to a file.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { TOPICS, type Topic } from './demo-topics.js';

/** A project file the scripted agent can read. */
export interface SourceFile {
  /** Path relative to the project root, with `/` separators. */
  path: string;
  text: string;
}

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

/** @internal FNV-1a: a stable small hash for deterministic "random" choices. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** @internal Test file that mirrors a source file (or its compiled JavaScript), for the scripted `npm test` output. */
function testFileOf(path: string): string | undefined {
  if (!/\.[jt]s$/.test(path)) return undefined;
  return `test/${path
    .replace(/^dist\//, '')
    .replace(/^src\//, '')
    .replace(/\.[jt]s$/, '.test.ts')}`;
}

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

  // Reads walk through each file window by window, so a re-read shows the next part.
  const nextWindow = new Map<string, number>();
  const read = (path: string): readonly [string, string] => {
    const lines = (byPath.get(path)?.text ?? '').split('\n');
    let start = nextWindow.get(path) ?? 0;
    if (start >= lines.length) start = 0;
    const end = Math.min(lines.length, start + readLines);
    nextWindow.set(path, end);
    const body = lines
      .slice(start, end)
      .map((line, i) => `${String(start + i + 1).padStart(6)}→${line}`)
      .join('\n');
    const more =
      end < lines.length ? `\n… +${lines.length - end} lines (read with offset ${end + 1} to see more)` : '';
    const header = start > 0 ? `Read(${path}, offset ${start + 1})` : `Read(${path})`;
    return [header, body + more] as const;
  };
  const grep = (pattern: RegExp): readonly [string, string] => {
    const hits: string[] = [];
    for (const f of sorted) {
      f.text.split('\n').forEach((line, i) => {
        if (pattern.test(line)) hits.push(`${f.path}:${i + 1}:${line.trim().slice(0, 140)}`);
      });
    }
    const shown = hits.slice(0, 50);
    const rest = hits.length > shown.length ? `\n… ${hits.length - shown.length} more matches` : '';
    return [
      `Grep(${pattern.source})`,
      hits.length === 0 ? 'No matches found' : `Found ${hits.length} matches\n${shown.join('\n')}${rest}`,
    ] as const;
  };
  const edit = (path: string, pattern: RegExp, comment: string): readonly [string, string] => {
    const lines = (byPath.get(path)?.text ?? '').split('\n');
    // Land on code, not inside a comment.
    const found = lines.findIndex((l) => pattern.test(l) && !/^\s*(\*|\/\*|\/\/|import )/.test(l));
    const at = found >= 0 ? found : Math.min(10, Math.max(0, lines.length - 1));
    const indent = /^\s*/.exec(lines[at] ?? '')?.[0] ?? '';
    const marker = path.endsWith('.md') ? `<!-- ${comment} -->` : `// ${comment}`;
    const snippet = [
      ...lines.slice(Math.max(0, at - 12), at + 1),
      `${indent}${marker}`,
      ...lines.slice(at + 1, at + 13),
    ];
    const first = Math.max(0, at - 12) + 1;
    return [
      `Edit(${path})`,
      `Updated ${path} with 1 addition and 0 removals\n` +
        snippet
          .map((l, i) => `${String(first + i).padStart(6)}${first + i === at + 2 ? '+' : ' '} ${l}`)
          .join('\n'),
    ] as const;
  };
  const tsFiles = sorted.filter((f) => testFileOf(f.path) !== undefined);
  const npmTest = (failing?: {
    file: string;
    test: string;
    error: string;
    frame: string;
  }): readonly [string, string] => {
    const lines = ['> dagent-sessions@0.1.0 test', '> npm run typecheck && npm run lint && vitest run', ''];
    let tests = 0;
    for (const f of tsFiles) {
      const file = testFileOf(f.path) ?? '';
      const n = 3 + (hash(file) % 18);
      tests += n;
      if (failing?.file === file)
        lines.push(` ❯ ${file} (${n} tests | 1 failed) ${20 + (hash(file) % 300)}ms`, `   × ${failing.test}`);
      else lines.push(` ✓ ${file} (${n} tests) ${5 + (hash(file) % 200)}ms`);
    }
    if (failing !== undefined) {
      lines.push(
        '',
        '⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯',
        '',
        ` FAIL  ${failing.file} > ${failing.test}`,
        failing.error,
      );
      // A code frame from the source under test, as vitest prints one for the failing call.
      const source = (byPath.get(failing.frame)?.text ?? '').split('\n');
      const at = Math.max(
        0,
        source.findIndex((l) => /throw |return /.test(l)),
      );
      lines.push(` ❯ ${failing.frame}:${at + 1}:${1 + (/^\s*/.exec(source[at] ?? '')?.[0].length ?? 0)}`);
      source.slice(Math.max(0, at - 5), at + 6).forEach((l, i) => {
        const n = Math.max(0, at - 5) + i + 1;
        lines.push(`${n === at + 1 ? '    ❯' : '     '} ${String(n).padStart(4)}| ${l}`);
      });
      lines.push(
        ` ❯ ${failing.file}:${40 + (hash(failing.test) % 200)}:${7 + (hash(failing.error) % 30)}`,
        '',
      );
    }
    const failed = failing === undefined ? 0 : 1;
    lines.push(
      ` Test Files  ${failed > 0 ? '1 failed | ' : ''}${tsFiles.length - failed} passed (${tsFiles.length})`,
      `      Tests  ${failed > 0 ? '1 failed | ' : ''}${tests - failed} passed (${tests})`,
    );
    return ['Bash(npm test)', lines.join('\n')] as const;
  };

  // Files for a topic: those whose path matches, then the largest files in turn.
  const bySize = [...sorted].sort((a, b) => b.text.length - a.text.length || (a.path < b.path ? -1 : 1));
  let cursor = 0;
  const unread = (path: string): boolean =>
    (nextWindow.get(path) ?? 0) < (byPath.get(path)?.text.split('\n').length ?? 0);
  /** The next file worth reading: a topic file with an unread window, else the next large one. */
  const nextRead = (topicFiles: readonly string[], taken: ReadonlySet<string>): string => {
    const own = topicFiles.find((p) => !taken.has(p) && unread(p));
    if (own !== undefined) return own;
    for (let tries = 0; tries < bySize.length; tries++) {
      const path = bySize[cursor++ % bySize.length]?.path ?? '';
      if (!taken.has(path) && unread(path)) return path;
    }
    // Everything has been read: re-read the larger half (the files that changed most since).
    const larger = bySize.slice(0, Math.max(1, Math.ceil(bySize.length / 2)));
    for (let tries = 0; tries < larger.length; tries++) {
      const path = larger[cursor++ % larger.length]?.path ?? '';
      if (!taken.has(path)) return path;
    }
    return topicFiles[0] ?? sorted[0]?.path ?? '';
  };
  const filesFor = (topic: Topic, count: number): string[] => {
    const picked = sorted
      .filter((f) => topic.files.test(f.path))
      .map((f) => f.path)
      .slice(0, count);
    while (picked.length < Math.min(count, sorted.length)) picked.push(nextRead([], new Set(picked)));
    return picked;
  };

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

/** @internal */
async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, keep)));
    else if (entry.isFile() && keep(entry.name)) out.push(full);
  }
  return out;
}

/**
 * Reads the package's own files: `src/**\/*.ts` and `machines/**\/*.ts` in a checkout, or, in an
 * install (which has no TypeScript sources), the compiled `dist/src/**\/*.js` and
 * `dist/machines/**\/*.js`; then `docs/*.md` and `README.md`, whichever exist; sorted by path.
 *
 * @param root - the package (or project) root.
 * @returns the files, paths relative to `root` with `/` separators.
 * @example const files = await collectSources(process.cwd());
 */
export async function collectSources(root: string): Promise<SourceFile[]> {
  const ts = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts');
  const js = (name: string): boolean => name.endsWith('.js');
  let code = [...(await walk(join(root, 'src'), ts)), ...(await walk(join(root, 'machines'), ts))];
  if (code.length === 0)
    code = [
      ...(await walk(join(root, 'dist', 'src'), js)),
      ...(await walk(join(root, 'dist', 'machines'), js)),
    ];
  const paths = [
    ...code,
    ...(await readdir(join(root, 'docs')).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.md'))
      .map((n) => join(root, 'docs', n)),
    ...(await readFile(join(root, 'README.md'))
      .then(() => [join(root, 'README.md')])
      .catch(() => [] as string[])),
  ];
  const files = await Promise.all(
    paths.map(async (p) => ({
      path: relative(root, p).split(sep).join('/'),
      text: await readFile(p, 'utf8'),
    })),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
