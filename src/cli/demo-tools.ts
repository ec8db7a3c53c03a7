/**
 * @internal The tools of the demo's scripted agent: `Read`, `Grep`, `Edit` and `npm test`, whose
 * output is made from the project's files as Claude Code prints it, and the choice of the next
 * file worth reading. Each answer is a `[call, result]` pair of the transcript format.
 */
import type { Topic } from './demo-topics.js';
import type { SourceFile } from './demo-sources.js';

/** @internal A tool call and its result, as the transcript records them. */
export type ToolCall = readonly [call: string, result: string];

/** @internal The tools over one set of files; `read` keeps each file's reading position. */
export interface DemoTools {
  /** The files that have a mirrored test file (the TypeScript or compiled JavaScript). */
  tsFiles: readonly SourceFile[];
  read(path: string): ToolCall;
  grep(pattern: RegExp): ToolCall;
  edit(path: string, pattern: RegExp, comment: string): ToolCall;
  /** The whole suite's output; with `failing`, one test fails with a code frame from `frame`. */
  npmTest(failing?: { file: string; test: string; error: string; frame: string }): ToolCall;
  /** The next file worth reading: a topic file with an unread window, else the next large one. */
  nextRead(topicFiles: readonly string[], taken: ReadonlySet<string>): string;
  /** `count` files for a topic: those whose path matches, then the largest files in turn. */
  filesFor(topic: Topic, count: number): string[];
}

/** @internal FNV-1a: a stable small hash for deterministic "random" choices. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** @internal Test file that mirrors a source file (or its compiled JavaScript), for the scripted `npm test` output. */
export function testFileOf(path: string): string | undefined {
  if (!/\.[jt]s$/.test(path)) return undefined;
  return `test/${path
    .replace(/^dist\//, '')
    .replace(/^src\//, '')
    .replace(/\.[jt]s$/, '.test.ts')}`;
}

/**
 * @internal The scripted agent's tools over `sorted` (sorted by path, not empty).
 * @example const { read } = createDemoTools(files, 150); read('README.md')[0] // 'Read(README.md)'
 */
export function createDemoTools(sorted: readonly SourceFile[], readLines: number): DemoTools {
  const byPath = new Map(sorted.map((f) => [f.path, f]));
  // Reads walk through each file window by window, so a re-read shows the next part.
  const nextWindow = new Map<string, number>();
  const read = (path: string): ToolCall => {
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
  const grep = (pattern: RegExp): ToolCall => {
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
  const edit = (path: string, pattern: RegExp, comment: string): ToolCall => {
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
  const npmTest = (failing?: { file: string; test: string; error: string; frame: string }): ToolCall => {
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

  return { tsFiles, read, grep, edit, npmTest, nextRead, filesFor };
}
