/**
 * The writes besides appends belong to the `session` object too, against a real restate-server
 * (one for this file), the services in this process: two clients making one write to one
 * session at once both succeed, one after the other, or get the documented answer, and nothing
 * is lost. Creation is idempotent across clients; a context and its count are written together;
 * archiving is for good (a clear racing it cannot undo it); a clear racing the object's
 * compactions waits for them and loses no message; a commit refreshes the threshold's count of
 * the checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import {
  createRestateSessionStore,
  type RestateSessionStore,
} from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { restateServices } from '../../src/restate/services.js';
import { countPart } from '../../src/runtime/fixed-counts.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let one: RestateSessionClient;
let two: RestateSessionClient;
let store: RestateSessionStore;
const LIMITS = { maxTokens: 2_500, keepRecentTokens: 400, replyReserveTokens: 200 };
const estimator = createTokenEstimator();

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  const options = { ingressUrl: server.ingressUrl, namespace: 'r', limits: LIMITS };
  one = await createRestateSessionClient(options);
  two = await createRestateSessionClient(options);
  store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'r', readOnly: true });
});

afterAll(async () => {
  await one?.close();
  await two?.close();
  await store?.close();
  await endpoint?.close();
});

const text = (who: string, i: number) => `${who} ${i}: ${'the quick brown fox jumps '.repeat(10)}`;

/** The call's value, or the code of the SessionError it threw. */
const settle = <T>(p: Promise<T>): Promise<{ value: T } | { code: string }> =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string') return { code };
      throw error;
    },
  );

describe('the session object takes the other writes', () => {
  it('creates a session once when two clients create it at once: both answer it', async () => {
    for (let i = 0; i < 5; i++) {
      const key = { type: 'feature', agentType: 'dev', featureId: `twice-${i}` } as const;
      const [a, b] = await Promise.all([one.create(key), two.create(key)]);
      expect(a.id).toBe(b.id);
      // One record: both answers carry the creation time of the one write.
      expect(a.createdAt).toBe(b.createdAt);
      expect((await one.get(a.id)).createdAt).toBe(a.createdAt);
    }
  });

  it('sets a context and its count together when two clients set it at once', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'context' });
    for (let i = 0; i < 8; i++) {
      const mine = { from: 'one', round: i, notes: 'short' };
      const theirs = { from: 'two', round: i, notes: 'a longer note '.repeat(20 + i) };
      await Promise.all([one.setContext(info.id, mine), two.setContext(info.id, theirs)]);
      const context = await one.getContext(info.id);
      expect([mine, theirs]).toContainEqual(context);
      // The persisted count is the final context's, not the other client's.
      const loaded = await store.load(info.id);
      expect(loaded.counts.context).toEqual(countPart(estimator, 'context', context!));
    }
    const description = { role: 'reviewer', goals: ['one'] };
    await Promise.all([
      one.setAgentDescription(info.id, description),
      two.setAgentDescription(info.id, { ...description, role: 'author' }),
    ]);
    const loaded = await store.load(info.id);
    expect(loaded.counts.description).toEqual(countPart(estimator, 'description', loaded.agentDescription!));
    await expect(one.setAgentDescription(info.id, { role: '' } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('keeps a session archived when a clear races the archive; a second archive changes nothing', async () => {
    for (let i = 0; i < 4; i++) {
      const info = await one.create({ type: 'feature', agentType: 'dev', featureId: `archive-${i}` });
      for (let j = 0; j < 3; j++) await one.addMessage(info.id, { role: 'user', content: text('a', j) });
      const [archived, again, cleared] = await Promise.all([
        settle(one.archive(info.id)),
        settle(two.archive(info.id)),
        settle(two.clearMessages(info.id)),
      ]);
      expect('value' in archived && 'value' in again).toBe(true);
      // The clear came first, or is refused because the session is archived.
      if ('code' in cleared) expect(cleared.code).toBe('SESSION_ARCHIVED');
      expect((await one.get(info.id)).status).toBe('archived');
      await expect(two.addMessage(info.id, { role: 'user', content: 'late' })).rejects.toMatchObject({
        code: 'SESSION_ARCHIVED',
      });
      await expect(two.setContext(info.id, { late: true })).rejects.toMatchObject({
        code: 'SESSION_ARCHIVED',
      });
      expect((await one.getHistory(info.id)).length).toBe(3);
    }
  });

  it('clears while another client appends past the threshold: no message lost, none twice', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'clear-race' });
    const acknowledged: Message[] = [];
    const clears: Promise<{ value: unknown } | { code: string }>[] = [];
    for (let i = 0; i < 30; i++) {
      acknowledged.push(await one.addMessage(info.id, { role: 'user', content: text('c', i) }));
      // Started beside the appends that follow, while the object's compactions run.
      if (i % 8 === 7) clears.push(settle(two.clearMessages(info.id)));
    }
    const outcomes = await Promise.all(clears);
    // A clear waits for the compaction running; one that lost a race with an append of another
    // client, or a compaction started after it looked, is refused with nothing written.
    for (const outcome of outcomes)
      if ('code' in outcome) expect(outcome.code).toMatch(/INVALID_(ARGUMENT|MESSAGE)/);
    expect(outcomes.some((o) => 'value' in o)).toBe(true);
    await one.compact(info.id).catch(() => undefined); // waits for the last compaction, if any
    const history = await two.getHistory(info.id);
    expect(history.map((m) => m.id)).toEqual(acknowledged.map((m) => m.id));
    expect(history.map((m) => m.content)).toEqual(acknowledged.map((m) => m.content));
  });

  it('records the checks of two clients at once: both kept, the checkpoint counted with them', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'checks' });
    for (let i = 0; i < 5; i++) {
      const [a, b] = await Promise.all([
        one.recordChecks(info.id, [{ checkId: `one-${i}`, passed: true }]),
        two.recordChecks(info.id, [{ checkId: `two-${i}`, passed: false, error: 'x'.repeat(40 * i) }]),
      ]);
      // The later of the two holds both.
      const later = (a.checks ?? []).length > (b.checks ?? []).length ? a : b;
      expect(later.checks?.map((c) => c.checkId).sort()).toEqual(
        Array.from({ length: i + 1 }, (_, j) => [`one-${j}`, `two-${j}`])
          .flat()
          .sort(),
      );
      const loaded = await store.load(info.id);
      expect(loaded.checkpoint?.checks?.length).toBe(2 * (i + 1));
      expect(loaded.counts.checkpoint).toEqual(countPart(estimator, 'checkpoint', loaded.checkpoint!));
    }
    await one.archive(info.id);
    await expect(two.recordChecks(info.id, [{ checkId: 'late', passed: true }])).rejects.toMatchObject({
      code: 'SESSION_ARCHIVED',
    });
  });

  it('refreshes the count of the checkpoint when a compaction commits', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'counts' });
    for (let i = 0; i < 8; i++) await one.addMessage(info.id, { role: 'user', content: text('n', i) });
    const first = await one.compact(info.id, { keepRecentTokens: 100 });
    expect(first.kind).toBe('compacted');
    for (let i = 8; i < 14; i++) await one.addMessage(info.id, { role: 'user', content: text('n', i) });
    await one.compact(info.id, { keepRecentTokens: 100 });
    const loaded = await store.load(info.id);
    expect(loaded.checkpoint).not.toBeNull();
    expect(loaded.counts.checkpoint).toEqual(countPart(estimator, 'checkpoint', loaded.checkpoint!));
  });
});
