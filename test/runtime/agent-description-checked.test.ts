/**
 * An agent description needs a non-empty `role` wherever it comes in: `createSession` took one
 * without (its requests then had no role section) while `setAgentDescription` and the IPC
 * channels refused it. One rule now, `validateAgentDescription`.
 */
import { describe, expect, it } from 'vitest';
import type { AgentDescription, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'f1' };

describe('an agent description without a role', () => {
  it('is refused by createSession before anything is written, as by setAgentDescription', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const before = await snapshotDir(root);
    for (const [description, got] of [
      [{ name: 'Planner' }, 'none'],
      [{ role: '' }, '""'],
      [{ role: 7 }, '7'],
    ] as const) {
      const error = await runtime
        .createSession(KEY, { agentDescription: description as unknown as AgentDescription })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`agentDescription needs a non-empty "role" string, got ${got}`),
      });
    }
    expect(await snapshotDir(root)).toEqual(before);
    expect(await runtime.listSessions()).toEqual([]);

    const { id } = await runtime.createSession(KEY, { agentDescription: { role: 'Planner', tone: 'terse' } });
    expect(await runtime.getAgentDescription(id)).toEqual({ role: 'Planner', tone: 'terse' });
    await expect(
      runtime.setAgentDescription(id, { name: 'Planner' } as unknown as AgentDescription),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('got none') });
    expect(await runtime.getAgentDescription(id)).toEqual({ role: 'Planner', tone: 'terse' });
    await runtime.close();
  });

  it('is refused by the agent profiles of createSessionRuntime by the same rule, naming the profile', async () => {
    const root = await tempRoot();
    for (const [description, got] of [
      [{ name: 'Researcher' }, 'none'],
      [{ role: '' }, '""'],
      [{ role: 7 }, '7'],
    ] as const) {
      const agents = { researcher: { description: description as unknown as AgentDescription } };
      await expect(createSessionRuntime({ root, agents })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(
          `createSessionRuntime: agents: researcher.description needs a non-empty "role" string, got ${got}`,
        ),
      });
    }
    const notPlain = { researcher: { description: 'Researcher' as unknown as AgentDescription } };
    await expect(createSessionRuntime({ root, agents: notPlain })).rejects.toThrow(
      /createSessionRuntime: agents: researcher\.description must be a plain object/,
    );
  });
});
