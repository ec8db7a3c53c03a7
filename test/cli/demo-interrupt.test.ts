/**
 * Ctrl+C pressed twice on the demo (or a tsx parent relaying the Ctrl+C its child got too) still
 * ends it cleanly: the second signal does not cut the stopping short, so the sessions close and
 * the temporary root is removed, exit code 0. Before, the first signal's listener was gone by then
 * and Node ended the process at once, leaving the root behind (swept only by the next run).
 * Run as a user runs it: a child process of the real entry point.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempRoot } from '../helpers/temp-root.js';
import { writeTranscript } from './cli-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('demo, interrupted twice', () => {
  it('closes its sessions and removes its temporary root', async () => {
    const transcript = await writeTranscript(await tempRoot(), 'short.json', 6);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--transcript', transcript],
      { cwd: REPO, env: { ...process.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const serving = new Promise<void>((resolve) =>
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('Inspector: http')) resolve();
      }),
    );
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await Promise.race([
      serving,
      exited.then(() => {
        throw new Error(`the demo exited before serving:\n${stdout}\n${stderr}`);
      }),
    ]);
    const root = /root\s+(\S+) \(temporary/.exec(stdout)?.[1];
    expect(root).toBeDefined();
    expect(existsSync(root!)).toBe(true);
    child.kill('SIGINT');
    child.kill('SIGINT');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(existsSync(root!)).toBe(false);
  });
});
