/**
 * A migration killed half-way (SIGKILL of a child at a message it announces), then the command a
 * user types: `dagent-sessions migrate --rollback` without an id, through the real entry point.
 * The unfinished migration is the one to undo, even after a later run migrated other files.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listManifests } from '../../src/migration/manifest.js';
import type { MigrationReport, RollbackReport } from '../../src/migration/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { expectedMessages, SESSION_OF, VALID_FILES, validRoot } from './legacy-fixtures.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = path.join(REPO, 'test/migration/migrate-crash-child.ts');
const CART = '.dagent/features/checkout/nodes/cart-api/session.json';

/** Runs the migration child and kills it once it announced message `seq` of `sessionId`. */
function killMigrationAt(root: string, sessionId: string, seq: number): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ROOT: root, KILL_AT: `${sessionId} ${seq}`, ANTHROPIC_API_KEY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const said: string[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      said.push(line);
      if (line === `appended ${sessionId} ${seq}`) child.kill('SIGKILL');
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(said);
      else reject(new Error(`the migration child ended by itself (code ${code}):\n${stderr}`));
    });
  });
}

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, ANTHROPIC_API_KEY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function histories(root: string): Promise<Record<string, string[]>> {
  const runtime = await createSessionRuntime({ root, readOnly: true });
  try {
    const out: Record<string, string[]> = {};
    for (const s of await runtime.listSessions())
      out[s.id] = (await runtime.getHistory(s.id)).map((m) => m.content as string);
    return out;
  } finally {
    await runtime.close();
  }
}

describe('migrate --rollback without an id after a crashed migration', () => {
  it(
    'undoes the unfinished migration, not a later one; ' +
      'migrating again then completes without duplicates',
    async () => {
      const root = await validRoot();
      const cartSession = SESSION_OF[CART];
      const said = await killMigrationAt(root, cartSession, 2);
      expect(said).toContain(`appended ${cartSession} 2`);
      expect(said).not.toContain('finished');
      const [crashed] = await listManifests(root);
      expect(crashed).toMatchObject({ status: 'running' });

      // A user runs the migration again: the files the crash did not reach are migrated by a second
      // run; the half-migrated file is refused, naming the crashed migration.
      const rerun = await cli('migrate', '--root', root, '--json');
      expect(rerun.code, rerun.stderr).toBe(2);
      const second = JSON.parse(rerun.stdout) as MigrationReport;
      expect(second.migrationId).not.toBeNull();
      expect(second.migrationId).not.toBe(crashed!.id);
      const cart = second.files.find((f) => f.file === CART)!;
      expect(cart.status).toBe('conflict');
      expect(cart.reason).toContain(crashed!.id);

      // Then, as the docs say, --rollback without an id.
      const rollback = await cli('migrate', '--root', root, '--rollback', '--json');
      expect(rollback.code, rollback.stderr).toBe(0);
      const undone = JSON.parse(rollback.stdout) as RollbackReport;
      expect(undone.migrationId).toBe(crashed!.id);
      expect(undone.sessionsRemoved.map((s) => s.sessionId).sort()).toEqual(
        crashed!.files.map((f) => f.sessionId).sort(),
      );
      expect(undone.warnings.join('\n')).toContain(second.migrationId!);

      // The second run's sessions are untouched; migrating again finishes the job.
      const again = await cli('migrate', '--root', root, '--json');
      expect(again.code, again.stderr).toBe(0);
      const third = JSON.parse(again.stdout) as MigrationReport;
      expect(third.files.find((f) => f.file === CART)?.status).toBe('migrated');
      const byId = await histories(root);
      expect(Object.keys(byId).sort()).toEqual(Object.values(SESSION_OF).sort());
      for (const file of VALID_FILES) {
        const expected = (await expectedMessages(root, file)).map((m) => m.content);
        expect(byId[SESSION_OF[file]], file).toEqual(expected);
      }
    },
  );
});
