/**
 * Paged history and checkpoint versions over IPC: `session:getHistory` with its query and
 * `session:getCheckpoint` with a version, through the handler table and the HTTP client, with
 * arguments checked at the edge.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { serveSessions } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const estimator = createTokenEstimator({ mode: 'approximate' });
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

async function session(): Promise<{ runtime: SessionRuntime; id: string }> {
  const runtime = await createSessionRuntime({
    root: await tempRoot(),
    estimator,
    compactor: new OfflineCompactor({ estimator }),
  });
  opened.push(runtime);
  const { id } = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'paged' });
  for (let i = 0; i < 30; i++)
    await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: `m${i}` });
  await runtime.clearMessages(id);
  for (let i = 30; i < 40; i++)
    await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: `m${i}` });
  await runtime.reset(id);
  return { runtime, id };
}

describe('paged reads over IPC', () => {
  it('the handler table and the HTTP client page the history and read checkpoint versions', async () => {
    const { runtime, id } = await session();
    const server = await serveSessions(runtime);
    opened.push(server);
    const handlers = createSessionHandlers(runtime);
    const client = createSessionClient(server.url);
    const seqsOf = (messages: { seq: number }[]) => messages.map((m) => m.seq);

    const whole = await handlers['session:getHistory'](id);
    expect(whole.ok && seqsOf(whole.value as { seq: number }[])).toEqual([...Array(40).keys()]);
    const page = await handlers['session:getHistory'](id, { limit: 3, before: 30 });
    expect(page.ok && seqsOf(page.value as { seq: number }[])).toEqual([29, 28, 27]);
    expect(seqsOf(await client.getHistory(id, { after: 35 }))).toEqual([39, 38, 37, 36]);
    expect(seqsOf(await client.getHistory(id, { after: 8, limit: 2, order: 'asc' }))).toEqual([9, 10]);
    expect(seqsOf(await client.getHistory(id))).toEqual([...Array(40).keys()]);

    expect((await client.getCheckpoint(id))?.version).toBe(2);
    expect((await client.getCheckpoint(id, { version: 1 }))?.compactionInfo).toMatchObject({
      compactor: 'clear',
      archivedThroughSeq: 29,
    });
    expect((await client.getCheckpoint(id, { version: 2 }))?.compactionInfo.compactor).toBe('reset');
    expect(await client.getCheckpoint(id, { version: 7 })).toBeNull();

    for (const bad of [{ limit: 0 }, { after: 1.5 }, { order: 'up' }, { page: 2 }, 'all']) {
      const answer = await handlers['session:getHistory'](id, bad);
      expect(answer, JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    }
    await expect(client.getCheckpoint(id, { version: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
