/**
 * A script that never calls close() ends by itself: the runtime's timers (idle sweep, retry
 * backoff, compaction timeout) do not hold the process, while a compaction in flight still
 * commits before it exits; the next process opens the root for writing and finds everything.
 * `await using` closes the runtime at the end of its block. Real child processes
 * (test/runtime/process-exit-child.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(REPO, 'test', 'runtime', 'process-exit-child.ts');
/** Far longer than the script needs; a process still running then would run for ever (the idle sweep re-arms). */
const NEVER_MS = 45_000;

/** Runs the child script; `exitedByItself` is false when it had to be killed. */
function runScript(
  env: Record<string, string>,
): Promise<{ exitedByItself: boolean; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: REPO,
      env: { ...process.env, ANTHROPIC_API_KEY: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, NEVER_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ exitedByItself: !killed, code, stdout, stderr });
    });
  });
}

describe('a process that uses a runtime', () => {
  it(
    'exits by itself without close(), after the compaction ' +
      'in flight commits; the next process opens the root',
    async () => {
      const root = await tempRoot('dagent-exit-');
      const run = await runScript({ ROOT: root, MESSAGES: '60' });
      expect(run.exitedByItself, `still running after ${NEVER_MS} ms; stdout: ${run.stdout}`).toBe(true);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('appended 60');
      expect(run.stdout).toContain('compacted 1');
      // The lock was released on exit, not left for the next process to take over.
      expect(existsSync(path.join(root, '.dagent', 'lock'))).toBe(false);

      const next = await createSessionRuntime({ root }); // for writing: the lock is free or taken over
      try {
        const id = 'feature--exit--dev'; // the child's session
        expect(await next.getHistory(id)).toHaveLength(60);
        expect((await next.getCheckpoint(id))?.version).toBe(1);
        await next.addMessage(id, { role: 'user', content: 'the next process writes' });
      } finally {
        await next.close();
      }
    },
  );

  it('closes the runtime at the end of an `await using` block (the lock is released)', async () => {
    const root = await tempRoot('dagent-exit-');
    const run = await runScript({ ROOT: root, MESSAGES: '3', MODE: 'dispose' });
    expect(run.exitedByItself).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('appended 3');
    expect(run.stdout).toContain('lock after the block: gone');
  });
});
