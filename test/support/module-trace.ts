/**
 * What importing a module loads, seen from a fresh Node process: every ES module the loader
 * fetches (recorded by a `load` hook registered with `module.register`, in the loader's thread)
 * and every CommonJS module in `require.cache` afterwards, with the time the `import()` took.
 * Tests use it to check that an entry does not load a dependency; the import benchmark counts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What {@link traceImport} saw. */
export interface ImportTrace {
  /** URLs of the ES modules loaded, in order (node: builtins included). */
  esm: string[];
  /** Paths of the CommonJS modules loaded (`require.cache`). */
  cjs: string[];
  /** Milliseconds the `import()` took, inside the child. */
  ms: number;
  /** Every module file loaded (ESM and CommonJS, builtins left out). */
  files: string[];
  /** Module files loaded by importing `then` afterwards (empty without `then`). */
  thenFiles: string[];
}

const MARK = '--- then ---';

/** The loader hook: appends each URL it loads to the file named in its registration data. */
const HOOK = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + '\\n');
  return next(url, context);
}`;

/**
 * Imports `entry` (a path or a package specifier resolved from `cwd`) in a new Node process and
 * reports what it loaded. With `tsx`, TypeScript sources can be imported (tsx's own modules are
 * left out of the report). `then`, a specifier, is imported after the measurement, so that a test
 * can show the trace would have seen it.
 */
export async function traceImport(
  entry: string,
  options: { cwd: string; tsx?: boolean; then?: string },
): Promise<ImportTrace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dagent-trace-'));
  try {
    const log = path.join(dir, 'esm.log');
    const target = path.isAbsolute(entry) ? pathToFileURL(entry).href : entry;
    const script = `
      import { register, createRequire } from 'node:module';
      import { appendFileSync, writeFileSync } from 'node:fs';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), {
        data: { file: ${JSON.stringify(log)} },
      });
      const started = performance.now();
      await import(${JSON.stringify(target)});
      const ms = performance.now() - started;
      const cjs = Object.keys(createRequire(import.meta.url).cache);
      appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(`${MARK}
`)});
      ${options.then === undefined ? '' : `await import(${JSON.stringify(options.then)});`}
      const after = Object.keys(createRequire(import.meta.url).cache).filter((f) => !cjs.includes(f));
      writeFileSync(${JSON.stringify(path.join(dir, 'result.json'))}, JSON.stringify({ ms, cjs, after }));
    `;
    const args = [...(options.tsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
    await run(process.execPath, args, { cwd: options.cwd, env: { ...process.env, NODE_OPTIONS: '' } });
    const result = JSON.parse(await readFile(path.join(dir, 'result.json'), 'utf8')) as {
      ms: number;
      cjs: string[];
      after: string[];
    };
    const tooling = (url: string) =>
      /\/node_modules\/(tsx|esbuild|get-tsconfig|resolve-pkg-maps)\//.test(url);
    const lines = (await readFile(log, 'utf8')).split('\n');
    const mark = lines.indexOf(MARK);
    const urls = (part: string[]) =>
      part.filter((url) => url !== '' && !url.startsWith('data:') && !tooling(url));
    const esm = urls(lines.slice(0, mark));
    const cjs = result.cjs.filter((file) => !tooling(file));
    const filesOf = (esmUrls: string[], cjsFiles: string[]) => [
      ...new Set([
        ...esmUrls.filter((url) => url.startsWith('file:')).map((url) => new URL(url).pathname),
        ...cjsFiles,
      ]),
    ];
    return {
      esm,
      cjs,
      ms: result.ms,
      files: filesOf(esm, cjs),
      thenFiles: filesOf(urls(lines.slice(mark + 1)), result.after),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
