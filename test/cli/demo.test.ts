/**
 * The demo (npm start): three agent sessions replayed with the offline compactor, then the
 * inspector served on them until stopped; --no-serve only prints the summary. Without --root it
 * writes to a temporary root that it removes, and removes the ones earlier runs left behind.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { sweepDemoRoots } from '../../src/cli/demo-root.js';
import { tempRoot } from '../helpers/temp-root.js';

/** A directory named as a demo root under `dir`, with a lock naming `pid` when given. */
async function demoRootIn(dir: string, name: string, pid?: number): Promise<string> {
  const root = path.join(dir, name);
  await mkdir(path.join(root, '.dagent', 'sessions'), { recursive: true });
  if (pid !== undefined) {
    const holder = { pid, hostname: os.hostname(), processStart: null, acquiredAt: '', token: name };
    await writeFile(path.join(root, '.dagent', 'lock'), `${JSON.stringify(holder)}\n`);
  }
  return root;
}

describe('demo', () => {
  it(
    'replays PM, Dev and QA sessions without losing a message, ' +
      'compacting each, then serves the inspector on them',
    async () => {
      const root = await tempRoot();
      const lines: string[] = [];
      const stop = new AbortController();
      let served!: (url: string) => void;
      const inspectorUrl = new Promise<string>((resolve) => (served = resolve));
      const running = runDemo({
        root,
        maxTokens: 30_000,
        out: (line) => {
          lines.push(line);
          const url = /Inspector: (http:\/\/127\.0\.0\.1:\d+)\//.exec(line)?.[1];
          if (url !== undefined) served(url);
        },
        interactive: false,
        stop: stop.signal,
      });
      // The demo ends only when stopped, so an early failure must end the wait too.
      const url = await Promise.race([
        inspectorUrl,
        running.then(() => {
          throw new Error(`the demo ended without serving the inspector:\n${lines.join('\n')}`);
        }),
      ]);
      const page = await fetch(`${url}/`);
      expect(await page.text()).toContain('inspector.js');
      const list = (await (
        await fetch(`${url}/rpc/session:list`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '[]',
        })
      ).json()) as {
        value: { id: string; checkpointVersion: number; stats: { totalCompactions: number } }[];
      };
      expect(list.value.map((s) => s.id).sort()).toEqual([
        'feature--demo--pm',
        'task--demo--replay--in_dev--dev',
        'task--demo--replay--in_qa--qa',
      ]);
      stop.abort();
      const report = await running;
      expect(report.sessions.map((s) => s.agent)).toEqual(['PM', 'Dev', 'QA']);
      expect(report.temporary).toBe(false); // a given root is kept
      expect(existsSync(path.join(root, '.dagent', 'sessions', 'feature--demo--pm'))).toBe(true);
      for (const s of report.sessions) {
        expect(s.report.historyIntact).toBe(true);
        expect(s.report.requestsOverLimit).toBe(0);
        expect(s.report.compactions.length).toBeGreaterThan(0);
      }
    },
  );

  it(
    '--no-serve only prints the summary; without --root it ' +
      'removes its temporary root, and leftovers of killed runs',
    async () => {
      const tmp = await tempRoot('dagent-demo-tmp-');
      const dead = spawnSync(process.execPath, ['-e', '']).pid; // a process that has exited
      const killed = await demoRootIn(tmp, 'dagent-sessions-demo-Kill3d', dead);
      vi.stubEnv('TMPDIR', tmp);
      const lines: string[] = [];
      try {
        const report = await runDemo({ serve: false, out: (line) => lines.push(line), interactive: false });
        expect(report.url).toBeNull();
        expect(report.temporary).toBe(true);
        expect(path.dirname(report.root)).toBe(tmp);
        expect(path.basename(report.root)).toMatch(/^dagent-sessions-demo-/);
        const text = lines.join('\n');
        expect(text).not.toContain('Inspector:');
        expect(text).toContain('every message, identical, in order');
        expect(text).toContain(`${report.root} (temporary: removed when the demo ends`);
        expect(text).toContain(`Removed 1 demo root(s) left by earlier runs: ${killed}`);
        expect(existsSync(report.root)).toBe(false);
        expect(await readdir(tmp)).toEqual([]);
      } finally {
        vi.unstubAllEnvs();
      }
    },
  );

  it('leaves a temporary root whose demo is still running, or starting, and other names', async () => {
    const tmp = await tempRoot('dagent-demo-tmp-');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const running = await demoRootIn(tmp, 'dagent-sessions-demo-Runnin', process.pid);
    const starting = await demoRootIn(tmp, 'dagent-sessions-demo-Startn');
    const old = await demoRootIn(tmp, 'dagent-sessions-demo-Old123');
    await utimes(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const killed = await demoRootIn(tmp, 'dagent-sessions-demo-Kill3d', dead);
    const other = await demoRootIn(tmp, 'dagent-sessions-demo-not-a-demo-root', dead);
    expect((await sweepDemoRoots(tmp)).sort()).toEqual([killed, old].sort());
    expect((await readdir(tmp)).sort()).toEqual(
      [running, starting, other].map((p) => path.basename(p)).sort(),
    );
  });
});
