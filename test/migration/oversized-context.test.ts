/**
 * A DAGent session whose context passes the room a session's limits leave the fixed parts
 * (src/core/fixed-parts-room.ts) is not migrated: its conversation fails saying why and how to
 * undo, its legacy files are left as they were, and the other conversations migrate. Before, it
 * was migrated into a session whose every request failed (a 204,640-token request in a
 * 100,000-token window).
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateAll } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FIXTURES } from './legacy-fixtures.js';

const SESSIONS = '.dagent-worktrees/feature-checkout/.dagent/sessions';
const PM = 'feature--feature-checkout--pm';

describe('migrating a DAGent session with a context too large for any request', () => {
  it('fails that conversation with the counts and the rollback, keeps its files, migrates the others', async () => {
    const root = await tempRoot('dagent-oversized-');
    await cp(path.join(FIXTURES, 'dagent'), root, { recursive: true });
    const file = path.join(root, SESSIONS, 'context_pm-feature-feature-checkout.json');
    const context = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...context, dagDump: 'node edge '.repeat(100_000) }));
    const legacy = await readFile(file, 'utf8');

    const report = await migrateAll(root);
    const pm = report.files.filter((f) => f.sessionId === PM);
    expect(pm.length).toBeGreaterThan(0);
    expect(pm.every((f) => f.status === 'failed')).toBe(true);
    const reason = pm.map((f) => f.reason ?? '').join('\n');
    expect(reason).toMatch(
      /the context \(\d+ tokens\) would take \d+ tokens of every request, more than the 55000/,
    );
    expect(reason).toContain('--rollback');
    expect(report.files.some((f) => f.sessionId !== PM && f.status === 'migrated')).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(legacy);

    const runtime = await createSessionRuntime({ root, readOnly: true });
    expect((await runtime.listSessions()).map((s) => s.id)).not.toContain(PM);
    await runtime.close();
  });
});
