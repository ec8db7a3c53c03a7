/**
 * The options objects a host hands to the integration, transport and migration entry points refuse
 * a name that is none of their options (`src/core/option-names.ts`), as the runtime's own do.
 * Before, each was ignored without a word, and the call ran at its defaults: `migrateAll(root,
 * { dryrun: true })` migrated for real, `serveSessions(rt, { tokn })` served without the token the
 * host meant to require, `registerSessionIpc(ipcMain, rt, { allowSendr })` served every renderer,
 * `createSessionClient(url, { tokn })` sent no token, `createTaskLoop({ maxIteratons })` ran 10
 * iterations and `createFeatureSession({ featureID })` had no feature id. A name whose value is
 * `undefined` is let be, as everywhere.
 */
import { describe, expect, it } from 'vitest';
import { createFeatureSession, type FeatureSessionOptions } from '../../src/integration/feature-session.js';
import { createTaskLoop, type TaskLoopOptions } from '../../src/integration/task-loop.js';
import { loadTask } from '../../src/integration/task.js';
import { createSessionClient, type SessionClientOptions } from '../../src/ipc/client.js';
import { registerSessionIpc, type IpcMainLike, type SessionIpcOptions } from '../../src/ipc/electron.js';
import { serveSessions, type ServeSessionsOptions } from '../../src/ipc/http.js';
import { migrateAll } from '../../src/migration/migrate.js';
import type { MigrationOptions } from '../../src/migration/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';
import { placeLegacy, validRoot } from '../migration/legacy-fixtures.js';

const refused = (name: string) =>
  expect.objectContaining({ message: expect.stringContaining(`"${name}" is not an option`) });

describe('the host-facing entry points refuse a name that is none of their options', () => {
  it('migrateAll: a misspelt dryRun writes nothing and says which name', async () => {
    const root = await validRoot();
    await placeLegacy(root, 'pm', { fixture: 'pm-mixed.json' }, { featureId: 'mixed' });
    const before = await snapshotDir(root);
    const misspelt = { dryrun: true } as MigrationOptions;
    await expect(migrateAll(root, misspelt)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(
        '"dryrun" is not an option; the options are runtime, compactor, dryRun',
      ),
    });
    expect(await snapshotDir(root)).toEqual(before);
    const loose = { dryRun: true, dryrun: undefined } as MigrationOptions;
    expect((await migrateAll(root, loose)).dryRun).toBe(true);
    expect(await snapshotDir(root)).toEqual(before);
  });

  it('serveSessions, registerSessionIpc, createSessionClient: a misspelt guard is refused', async () => {
    const root = await tempRoot('host-options-');
    const runtime = await createSessionRuntime({ root });
    try {
      await expect(
        serveSessions(runtime, { tokn: 'x'.repeat(32) } as ServeSessionsOptions),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('serveSessions: "tokn" is not an option'),
      });

      const handles = new Set<string>();
      const ipcMain: IpcMainLike = {
        handle: (channel) => void handles.add(channel),
        removeHandler: (channel) => void handles.delete(channel),
      };
      const allowSendr = () => false;
      expect(() => registerSessionIpc(ipcMain, runtime, { allowSendr } as SessionIpcOptions)).toThrow(
        refused('allowSendr'),
      );
      expect(handles.size).toBe(0); // no channel served to every renderer
      const unregister = registerSessionIpc(ipcMain, runtime, {
        allowSender: undefined,
        getWindows: undefined,
      });
      expect(handles.size).toBeGreaterThan(0);
      unregister();

      expect(() =>
        createSessionClient('http://127.0.0.1:9', { tokn: 'x'.repeat(32) } as SessionClientOptions),
      ).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('"tokn"') }),
      );
      expect(createSessionClient('http://127.0.0.1:9', { token: undefined, reconnectMs: 50 })).toBeDefined();
    } finally {
      await runtime.close();
    }
  });

  it('createTaskLoop and createFeatureSession: a misspelt option creates no session', async () => {
    const root = await tempRoot('host-options-');
    const runtime = await createSessionRuntime({ root });
    try {
      const task = loadTask({ id: 'parser', featureId: 'calc', title: 'Parser', state: 'in_dev', plan: [] });
      const agent: TaskLoopOptions['agent'] = async () => ({ messages: [], checks: [], done: true });
      const loop = { runtime, task, state: 'in_dev', agent, maxIteratons: 2 } as TaskLoopOptions;
      await expect(createTaskLoop(loop)).rejects.toMatchObject(refused('maxIteratons'));
      const feature = { runtime, featureID: 'calc' } as unknown as FeatureSessionOptions;
      await expect(createFeatureSession(feature)).rejects.toMatchObject(refused('featureID'));
      expect(await runtime.listSessions()).toEqual([]);

      const made = await createTaskLoop({ runtime, task, state: 'in_dev', agent, goals: undefined });
      expect(made.sessionId).toBe('task--calc--parser--in_dev--dev');
    } finally {
      await runtime.close();
    }
  });
});
