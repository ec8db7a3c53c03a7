/**
 * The code the docs show compiles against the package's public entries: every ```ts and ```tsx
 * block of README.md and docs/*.md, each as a module importing `dagent-sessions/...` from the
 * entry's source, type-checked with the project's compiler options. A block that declares an
 * interface an entry exports (`SessionMetrics`) must be the same type as the exported one.
 * The docs' examples lost an import (`saveTask`) with nothing to tell.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const here = path.join(repo, 'test/docs');

/** `dagent-sessions/x` -> the entry's source file, from package.json "exports". */
function entrySources(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import: string }>;
  };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const source = target.import.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');
    entries.set(subpath === '.' ? 'dagent-sessions' : `dagent-sessions/${subpath.slice(2)}`, source);
  }
  return entries;
}

/**
 * What the examples leave to the reader (a runtime made earlier, an id, the host's own functions),
 * declared once for all of them: a block's own declaration or import of a name shadows these.
 */
const PLACEHOLDERS = `
import type { CheckResult, MessageInput, SessionRuntime } from '../../src/index.js';
declare global {
  type SessionAPI = import('../../src/ipc/index.js').SessionAPI;
  type SessionKey = import('../../src/index.js').SessionKey;
  type SessionMachineState = import('../../src/index.js').SessionMachineState;
  type CompactOutput = import('../../src/index.js').CompactOutput;
  const runtime: SessionRuntime;
  const createSessionRuntime: typeof import('../../src/index.js').createSessionRuntime;
  const client: SessionAPI;
  const root: string, projectDir: string, id: string, devSessionId: string, output: string, taskFile: string;
  const tasks: import('../../src/integration/index.js').DagTask[];
  const readFile: typeof import('node:fs/promises').readFile;
  const writeFile: typeof import('node:fs/promises').writeFile;
  function callModel(system: string, messages: unknown): Promise<{ messages: MessageInput[]; done: boolean }>;
  function runChecks(): Promise<CheckResult[]>;
}
export {};
`;

/** Electron is no dependency: the parts of it the examples use, as the package types them. */
const ELECTRON = `
declare module 'electron' {
  export const app: { on(event: string, listener: () => unknown): void };
  export const BrowserWindow: unknown;
  export const ipcMain: import('../../src/ipc/index.js').IpcMainLike;
  export const contextBridge: import('../../src/ipc/preload.js').ContextBridgeLike;
  export const ipcRenderer: import('../../src/ipc/preload.js').IpcRendererLike;
}
`;

interface Example {
  where: string;
  file: string;
  text: string;
}

/** Every ts/tsx block of README.md and docs/*.md, as a module file beside this test. */
function examples(): Example[] {
  const entries = entrySources();
  const docs = ['README.md', ...readdirSync(path.join(repo, 'docs')).map((name) => `docs/${name}`)];
  const found: Example[] = [];
  for (const doc of docs.filter((name) => name.endsWith('.md'))) {
    const text = readFileSync(path.join(repo, doc), 'utf8');
    for (const match of text.matchAll(/^```(tsx?)\n([\s\S]*?)^```/gm)) {
      const line = text.slice(0, match.index).split('\n').length;
      const where = `${doc}:${line}`;
      let code = (match[2] ?? '').replace(/from '(dagent-sessions[^']*)'/g, (whole, name: string) => {
        const source = entries.get(name);
        return source === undefined ? whole : `from '../../${source.replace(/\.ts$/, '.js')}'`;
      });
      code += `\n${sameAsExported(code, entries)}\nexport {};\n`;
      const file = path.join(here, `example-${doc.replace(/\W/g, '-')}-${line}.${match[1]}`);
      found.push({ where, file, text: code });
    }
  }
  return found;
}

/** For a block that only declares interfaces: each the same type as the one an entry exports. */
function sameAsExported(code: string, entries: Map<string, string>): string {
  if (/^import /m.test(code)) return '';
  const checks: string[] = [];
  for (const [, name] of code.matchAll(/^interface (\w+)/gm)) {
    const source = [...entries.values()].find((file) =>
      new RegExp(`\\b${name}\\b`).test(readFileSync(path.join(repo, file), 'utf8')),
    );
    if (source === undefined || name === undefined) continue;
    const real = `import('../../${source.replace(/\.ts$/, '.js')}').${name}`;
    checks.push(
      `declare const doc${name}: ${name}; declare const real${name}: ${real};`,
      `export const toReal${name}: ${real} = doc${name}; export const toDoc${name}: ${name} = real${name};`,
    );
  }
  return checks.join('\n');
}

function diagnostics(list: Example[]): string[] {
  const config = ts.readConfigFile(path.join(repo, 'tsconfig.json'), (file) => ts.sys.readFile(file));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repo);
  const options = { ...parsed.options, noEmit: true, lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'] };
  const virtual = new Map(list.map((example) => [example.file, example.text]));
  const placeholders = path.join(here, 'example-placeholders.ts');
  const electron = path.join(here, 'example-electron.d.ts');
  virtual.set(placeholders, PLACEHOLDERS);
  virtual.set(electron, ELECTRON);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = virtual.get(file);
    return text === undefined
      ? getSourceFile.call(host, file, language, ...rest)
      : ts.createSourceFile(file, text, language);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const where = new Map(list.map((example) => [example.file, example.where]));
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && virtual.has(d.file.fileName))
    .map((d) => {
      const file = d.file as ts.SourceFile;
      const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      return `${where.get(file.fileName) ?? file.fileName} (block line ${line + 1}): ${text}`;
    });
}

describe('the docs code examples', () => {
  it('are found in README.md and docs/embedding.md', () => {
    const where = examples().map((example) => example.where);
    expect(where.some((w) => w.startsWith('README.md:'))).toBe(true);
    expect(where.filter((w) => w.startsWith('docs/embedding.md:')).length).toBeGreaterThan(5);
  });

  it('type-check against the public entries', { timeout: 300_000 }, () => {
    expect(diagnostics(examples())).toEqual([]);
  });
});
