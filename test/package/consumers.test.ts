/**
 * The package as a user gets it: this checkout staged in a temporary directory (so that the
 * checkout's own dist/ is neither used nor touched), built, packed with `npm pack` once, and
 * installed once into a fresh project (`npm install --prefer-offline`: the npm cache first, the
 * registry for what it lacks). In that project, consumers of every kind use it: an ES module, a
 * CommonJS script (`require`), a TypeScript project with `module: commonjs` and one with
 * `module: nodenext`, both type-checked and run; and the installed `dagent-sessions` command,
 * `demo` included. Every entry is imported and required (`/react` with React installed beside it).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
/** Building, packing and installing take a minute or two on a busy machine. */
const SETUP_MS = 600_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws for its exit code. */
function sh(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: { ...process.env, ANTHROPIC_API_KEY: '', NODE_OPTIONS: '', ...env }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function ok(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> {
  const ran = await sh(file, args, cwd, env);
  if (ran.code !== 0)
    throw new Error(`${file} ${args.join(' ')} exited ${ran.code}\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** The version of a dev dependency installed in the checkout (so that the npm cache has it). */
function devVersion(name: string): string {
  const manifest = readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

/** What `npm pack --json` says of the tarball. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** The scenario every consumer runs, in its own module syntax: a session, a message, history back. */
const SCENARIO =
  `
  const root = mkdtempSync(join(tmpdir(), 'dagent-consumer-'));
  const runtime = await createSessionRuntime({ root });
  const session = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'f1' });
  await runtime.addMessage(session.id, { role: 'user', content: 'Plan the exporter' });
  const history = await runtime.getHistory(session.id);
  await runtime.close();
  rmSync(root, { recursive: true, force: true });
  const kinds = {
    ipc: typeof ipc.createSessionHandlers + ' ' + typeof ipc.registerSessionIpc,
    http: [http.serveSessions, http.createSessionClient, http.advertiseHost, ` +
  `http.createInspectorHandler].map((f) => typeof f).join(' '),
    migration: typeof migration.migrateAll + ' ' + typeof migration.parseClaudeCodeLog,
    dag: typeof dag.createTaskLoop,
    preload: typeof preload.exposeSessionApi,
    machines: typeof machines.sessionMachine,
    react: typeof react.SessionInspector,
  };
  console.log(JSON.stringify({ messages: history.length, id: session.id, kinds }));
`;

const EXPECTED_KINDS = {
  ipc: 'function function',
  http: 'function function function function',
  migration: 'function function',
  dag: 'function',
  preload: 'function',
  machines: 'object',
  react: 'function',
};

const ESM = `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionRuntime } from 'dagent-sessions';
import * as ipc from 'dagent-sessions/ipc';
import * as http from 'dagent-sessions/http';
import * as migration from 'dagent-sessions/migration';
import * as dag from 'dagent-sessions/dag';
import * as preload from 'dagent-sessions/preload';
import * as machines from 'dagent-sessions/machines';
import * as react from 'dagent-sessions/react';
${SCENARIO}
`;

const CJS = `
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createSessionRuntime } = require('dagent-sessions');
const ipc = require('dagent-sessions/ipc');
const http = require('dagent-sessions/http');
const migration = require('dagent-sessions/migration');
const dag = require('dagent-sessions/dag');
const preload = require('dagent-sessions/preload');
const machines = require('dagent-sessions/machines');
const react = require('dagent-sessions/react');
(async () => {
${SCENARIO}
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/** TypeScript, compiled to CommonJS by both projects: typed imports of every entry, and `await using`. */
const TS =
  `
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionRuntime, SessionError, type Message, type SessionInfo, ` +
  `type SessionRuntime } from 'dagent-sessions';
import { createSessionHandlers, type SessionAPI } from 'dagent-sessions/ipc';
import { serveSessions, createSessionClient, advertiseHost, createInspectorHandler, ` +
  `type SessionServer } from 'dagent-sessions/http';
import { migrateAll, parseClaudeCodeLog, type MigrationReport } from 'dagent-sessions/migration';
import { createTaskLoop, type TaskLoopOptions } from 'dagent-sessions/dag';
import { exposeSessionApi } from 'dagent-sessions/preload';
import { sessionMachine } from 'dagent-sessions/machines';

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'dagent-consumer-'));
  let history: Message[];
  let info: SessionInfo;
  {
    await using runtime: SessionRuntime = await createSessionRuntime({ root });
    info = await runtime.createSession({ type: 'task', agentType: 'dev', featureId: 'f1', taskId: 't1', ` +
  `taskState: 'in_dev' });
    await runtime.addMessage(info.id, { role: 'user', content: 'Implement the exporter' });
    history = await runtime.getHistory(info.id);
  }
  // Closed by \`await using\`: the root can be opened for writing again.
  const again = await createSessionRuntime({ root });
  await again.close();
  rmSync(root, { recursive: true, force: true });
  const handlers: ReturnType<typeof createSessionHandlers> | null = null;
  const api: SessionAPI | null = null;
  const server: SessionServer | null = null;
  const report: MigrationReport | null = null;
  const loop: TaskLoopOptions | null = null;
  const used = [serveSessions, createSessionClient, advertiseHost, createInspectorHandler, migrateAll, ` +
  `parseClaudeCodeLog, createTaskLoop, exposeSessionApi];
  console.log(JSON.stringify({
    messages: history.length,
    id: info.id,
    error: new SessionError('INVALID_ARGUMENT', 'runtime', 'x').code,
    functions: used.every((f) => typeof f === 'function'),
    machine: sessionMachine.id,
    nulls: [handlers, api, server, report, loop].every((v) => v === null),
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
`;

function tsconfig(module: 'commonjs' | 'nodenext'): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module,
      ...(module === 'commonjs' ? {} : { moduleResolution: 'nodenext' }),
      strict: true,
      esModuleInterop: true,
      // One project checks the package's declarations too (slower), the other only uses them.
      skipLibCheck: module === 'commonjs',
      types: ['node'],
      typeRoots: [path.join(REPO, 'node_modules', '@types')],
      outDir: 'out',
    },
    include: ['index.ts'],
  });
}

describe('the packed tarball, installed', () => {
  let work: string;
  let project: string;
  let packed: Packed;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'dagent-package-'));
    const stage = path.join(work, 'stage');
    const skip = new Set(['node_modules', '.git', 'dist', 'coverage', '.dagent']);
    await cp(REPO, stage, {
      recursive: true,
      filter: (source) => source === REPO || !skip.has(path.relative(REPO, source).split(path.sep)[0] ?? ''),
    });
    await symlink(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
    await ok('npm', ['run', 'build'], stage);
    const pack = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage);
    [packed] = JSON.parse(pack.stdout) as [Packed];
    console.log(
      `dagent-sessions tarball: ${packed.size} bytes ` +
        `packed, ${packed.unpackedSize} unpacked, ${packed.files.length} files`,
    );

    project = path.join(work, 'project');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // React and react-dom are the optional peers of dagent-sessions/react.
    const react = ['react', 'react-dom'].map((name) => `${name}@${devVersion(name)}`);
    await ok(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(work, packed.filename), ...react],
      project,
    );
    const consumer = async (dir: string, files: Record<string, string>) => {
      await mkdir(path.join(project, dir));
      for (const [name, text] of Object.entries(files)) await writeFile(path.join(project, dir, name), text);
    };
    await consumer('esm', { 'package.json': '{ "type": "module" }', 'index.js': ESM });
    await consumer('cjs', { 'package.json': '{ "type": "commonjs" }', 'index.js': CJS });
    await consumer('ts-commonjs', {
      'package.json': '{ "type": "commonjs" }',
      'tsconfig.json': tsconfig('commonjs'),
      'index.ts': TS,
    });
    await consumer('ts-nodenext', {
      'package.json': '{ "type": "commonjs" }',
      'tsconfig.json': tsconfig('nodenext'),
      'index.ts': TS,
    });
  }, SETUP_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds the built entries, the docs and the LICENSE; no demo fixture, sources, tests or source maps', () => {
    const files = packed.files.map((f) => f.path);
    for (const file of [
      'LICENSE',
      'README.md',
      'package.json',
      'bin/dagent-sessions.js',
      'dist/inspector/inspector.js',
      'docs/embedding.md',
    ])
      expect(files).toContain(file);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test/'))).toEqual(
      [],
    );
    expect(files.filter((f) => f.includes('demo-conversation.json'))).toEqual([]);
  });

  it('maps every entry of its exports to files it holds, for import, require and types', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(project, 'node_modules', 'dagent-sessions', 'package.json'), 'utf8'),
    ) as { exports: Record<string, string | Record<string, string>> };
    const files = new Set(packed.files.map((f) => f.path));
    const targets = Object.values(manifest.exports).flatMap((t) =>
      typeof t === 'string' ? [t] : Object.values(t),
    );
    expect(targets.length).toBeGreaterThan(20);
    expect(targets.filter((t) => !files.has(t.replace(/^\.\//, '')))).toEqual([]);
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      expect(Object.keys(target), subpath).toEqual(['types', 'import', 'require', 'default']);
    }
  });

  it('works from an ES module', async () => {
    const ran = await ok(process.execPath, ['esm/index.js'], project);
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual({ messages: 1, id: 'feature--f1--pm', kinds: EXPECTED_KINDS });
  });

  it('works from CommonJS with require(), without a warning', async () => {
    const ran = await ok(process.execPath, ['cjs/index.js'], project);
    expect(ran.stderr).toBe('');
    expect(JSON.parse(ran.stdout)).toEqual({ messages: 1, id: 'feature--f1--pm', kinds: EXPECTED_KINDS });
  });

  it.each(['ts-commonjs', 'ts-nodenext'])(
    'type-checks and runs in a TypeScript project (%s)',
    async (dir) => {
      const compiled = await sh(process.execPath, [TSC, '-p', dir], project);
      expect(compiled.stdout + compiled.stderr).toBe('');
      expect(compiled.code).toBe(0);
      const ran = await ok(process.execPath, [path.join(dir, 'out', 'index.js')], project);
      expect(ran.stderr).toBe('');
      expect(JSON.parse(ran.stdout)).toEqual({
        messages: 1,
        id: 'task--f1--t1--in_dev--dev',
        error: 'INVALID_ARGUMENT',
        functions: true,
        machine: 'session',
        nulls: true,
      });
    },
  );

  it('installs the dagent-sessions command: --version, and a demo that cleans up after itself', async () => {
    const bin = path.join(project, 'node_modules', '.bin', 'dagent-sessions');
    const version = await ok(bin, ['--version'], project);
    expect(version.stdout.trim()).toBe('0.1.0');
    const tmp = path.join(work, 'tmp');
    await mkdir(tmp);
    const demo = await ok(bin, ['demo', '--no-serve', '--max-tokens', '30000'], project, { TMPDIR: tmp });
    expect(demo.stdout.match(/every message, identical, in order/g)).toHaveLength(3);
    expect(demo.stdout).toContain("a Dev session scripted over the package's own files");
    expect(demo.stdout).toMatch(/compactions\s+[1-9]/);
    expect(await readdir(tmp)).toEqual([]);
  });
});
