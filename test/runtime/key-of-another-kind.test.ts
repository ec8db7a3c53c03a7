/**
 * A session key with a field of the other kind of key: `taskId` on a feature key means the host
 * meant a task session; dropping it silently would open (and write to) the feature's session.
 */
import { describe, expect, it } from 'vitest';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const FEATURE = { type: 'feature', agentType: 'dev', featureId: 'f1' } as const;

describe('a feature key with a task key field', () => {
  it.each([
    ['taskId', { ...FEATURE, taskId: 't1' }],
    ['taskState', { ...FEATURE, taskState: 'in_dev' }],
  ])('is refused by createSession and over IPC, naming %s, and nothing is written', async (field, key) => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const said = new RegExp(
      `${field} belongs to a task key, not to a feature key .*give type "task" with taskId and taskState`,
    );
    await expect(runtime.createSession(key as never)).rejects.toMatchObject({
      code: 'INVALID_KEY',
      message: expect.stringMatching(said),
    });
    const answer = await createSessionHandlers(runtime)['session:create'](key);
    expect(answer).toMatchObject({
      ok: false,
      error: { code: 'INVALID_KEY', message: expect.stringMatching(said) },
    });
    expect(await runtime.listSessions()).toEqual([]);
    await runtime.close();
  });

  it('is let be when the field is undefined, and fields of no key are still dropped', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const info = await runtime.createSession({ ...FEATURE, taskId: undefined, title: 'Login' } as never);
    expect(info.key).toEqual(FEATURE);
    const answer = await createSessionHandlers(runtime)['session:create']({ ...FEATURE, title: 'Login' });
    expect(answer).toMatchObject({ ok: true, value: { id: info.id, key: FEATURE } });
    await runtime.close();
  });
});
