/**
 * What `import 'dagent-sessions'` costs: modules loaded and time to import, in a fresh Node
 * process per measurement, for the built root entry and each subpath entry, next to the root
 * entry plus the Anthropic SDK (what importing the package loaded before the SDK was made lazy)
 * and the SDK alone. The entries are compiled with tsc into node_modules/.cache (the checkout's
 * dist/ is left alone), so that Node loads JavaScript as an install does.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { traceImport } from '../support/module-trace.js';
import type { BenchTable } from './run.js';

const exec = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(REPO, 'node_modules', '.cache', 'dagent-sessions-import-bench');
const RUNS = 5;
const SDK = `${path.sep}node_modules${path.sep}@anthropic-ai${path.sep}sdk${path.sep}`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs the benchmark and returns its table. */
export async function run(): Promise<BenchTable> {
  await rm(OUT, { recursive: true, force: true });
  await compileEntries();
  const both = path.join(OUT, 'root-and-sdk.mjs');
  await writeFile(both, `import './src/index.js';\nimport '@anthropic-ai/sdk';\n`);
  const cases: [string, string][] = [
    ['dagent-sessions (root entry)', path.join(OUT, 'src', 'index.js')],
    ['dagent-sessions/ipc', path.join(OUT, 'src', 'ipc', 'index.js')],
    ['dagent-sessions/http', path.join(OUT, 'src', 'ipc', 'http-entry.js')],
    ['dagent-sessions/migration', path.join(OUT, 'src', 'migration', 'index.js')],
    ['dagent-sessions/dag', path.join(OUT, 'src', 'integration', 'index.js')],
    ['root entry + @anthropic-ai/sdk (the eager import before)', both],
    ['@anthropic-ai/sdk alone', '@anthropic-ai/sdk'],
  ];
  const rows: (string | number)[][] = [];
  for (const [label, entry] of cases) {
    const times: number[] = [];
    let files = 0;
    let sdk = 0;
    for (let i = 0; i < RUNS; i++) {
      const trace = await traceImport(entry, { cwd: OUT });
      times.push(trace.ms);
      files = trace.files.length;
      sdk = trace.files.filter((f) => f.includes(SDK)).length;
    }
    rows.push([label, files, sdk, Math.round(median(times)), Math.round(Math.min(...times))]);
  }
  await rm(OUT, { recursive: true, force: true });
  return {
    title: 'Importing the package: modules loaded and time',
    columns: ['entry', 'module files', 'of @anthropic-ai/sdk', 'import ms (median)', 'import ms (min)'],
    rows,
    notes: [
      `Each row: ${RUNS} fresh Node processes importing the entry compiled by tsc; module files are the ES modules`,
      'a loader hook saw and the CommonJS modules in require.cache (Node builtins not counted); time is the',
      "import() alone, inside the process. The SDK is now loaded by a compactor's or send's first call.",
    ],
  };
}

/** Compiles src/ and machines/ to JavaScript under OUT. */
async function compileEntries(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await exec(
    process.execPath,
    [
      path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(REPO, 'tsconfig.build.json'),
      '--outDir',
      OUT,
      '--declaration',
      'false',
    ],
    { cwd: REPO },
  );
}
