/**
 * The real entry point in a child process: `node --import tsx src/cli/main.ts ...` prints, exits
 * with the command's code, a write command names a holder in another process, and output into a
 * pipe whose reader has gone (`export ID | head`) ends quietly.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionInfo } from '../../src/runtime/types.js';
import { FEATURE_ID, seededRoot } from './cli-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return cliWith({ closeStdout: false }, ...args);
}

/**
 * Runs the CLI; with `closeStdout`, the reading end of its stdout is closed before it writes; with
 * `stdoutFd`, its stdout is that file descriptor (`> file`).
 */
function cliWith(
  options: { closeStdout: boolean; stdoutFd?: number },
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // As `| head` does once it has its lines: every later write of the child meets EPIPE.
    if (options.closeStdout) child.stdout?.destroy();
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the dagent-sessions entry point', () => {
  it('lists a root as JSON and exits 0; exits 1 for an unknown command', async () => {
    const root = await seededRoot();
    const list = await cli('list', '--root', root, '--json');
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as SessionInfo[]).map((s) => s.id)).toContain(FEATURE_ID);
    const unknown = await cli('nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "nope"');
  });

  it('names the holder of the lock in another process (exit 1), while reads still work', async () => {
    const root = await seededRoot();
    const host = await createSessionRuntime({ root });
    try {
      const [compact, show] = await Promise.all([
        cli('compact', FEATURE_ID, '--root', root),
        cli('show', FEATURE_ID, '--root', root, '--json'),
      ]);
      expect(compact.code).toBe(1);
      expect(compact.stderr).toContain(`open for writing by process ${process.pid} on `);
      expect(compact.stderr).toContain('(ROOT_LOCKED)');
      expect(show.code, show.stderr).toBe(0);
    } finally {
      await host.close();
    }
  });

  it("ends quietly with the command's exit code when the reader of its stdout has gone (EPIPE)", async () => {
    const root = await seededRoot();
    const exported = await cliWith({ closeStdout: true }, 'export', FEATURE_ID, '--root', root);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const listed = await cliWith({ closeStdout: true }, 'list', '--root', root);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
  });

  // /dev/full is Linux's device whose every write fails with ENOSPC, as a full disk does.
  it.skipIf(!existsSync('/dev/full'))(
    'says in one line that its output is incomplete and exits 1 when stdout cannot be written (ENOSPC)',
    async () => {
      const root = await seededRoot();
      const full = openSync('/dev/full', 'w');
      try {
        for (const args of [['export', FEATURE_ID], ['list']]) {
          const r = await cliWith({ closeStdout: false, stdoutFd: full }, ...args, '--root', root);
          expect(r.stderr.trim()).toBe(
            'dagent-sessions: cannot write to stdout: ENOSPC: no space left on device, write; ' +
              'the output is incomplete',
          );
          expect(r.code).toBe(1);
        }
      } finally {
        closeSync(full);
      }
    },
  );

  it('prints its version (--version, -v) from package.json', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-v']) {
      const r = await cli(flag);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });
});
