/**
 * The session client on Restate holds a context and a description to the same rules as the
 * runtime (test/runtime/fixed-parts.test.ts): room for a conversation in the session's limits,
 * and `maxMessageBytes`; a refused call writes nothing to the object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { fixedPartsRoom } from '../../src/core/fixed-parts-room.js';
import { createCompactionWorkflow } from '../../src/restate/compaction-workflow.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { sessionEvents, sessionEventsWait } from '../../src/restate/event-feed.js';
import {
  createRestateSessionStore,
  type RestateSessionStore,
} from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let client: RestateSessionClient;
let store: RestateSessionStore;
const LIMITS = { maxTokens: 20_000 };
const ROOM = fixedPartsRoom(resolveLimits(LIMITS));
const MAX_BYTES = 256 * 1024;
const words = (tokens: number) => 'word '.repeat(tokens);

/** Counts the compaction workflow's compactor calls; holds them while `held` (the workflow stays running). */
const compactions = { calls: 0, held: null as Promise<void> | null, release: () => undefined as void };
class CountingCompactor implements Compactor {
  readonly name = 'counting-offline';
  readonly maxInputTokens = 200_000;
  readonly #inner = new OfflineCompactor();
  async compact(input: CompactionInput, options: CompactOptions) {
    compactions.calls++;
    if (compactions.held) await compactions.held;
    return this.#inner.compact(input, options);
  }
}

beforeAll(async () => {
  const compaction = createCompactionWorkflow({ compactor: () => new CountingCompactor() });
  endpoint = await serveRestateEndpoint({
    services: [sessionObject, sessionDirectory, compaction, sessionEvents, sessionEventsWait],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
  client = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 'fixed',
    limits: LIMITS,
    maxMessageBytes: MAX_BYTES,
  });
  store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'fixed' });
});

afterAll(async () => {
  compactions.release();
  await client?.close();
  await store?.close();
  await endpoint?.close();
});

const codeAndDetails = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (error: { code?: string; details?: Record<string, unknown>; message?: string }) => ({
      code: error.code,
      details: error.details,
      message: error.message,
    }),
  );

describe('a context or description too large for the session, on Restate', () => {
  it('create, setContext and setAgentDescription refuse it and write nothing', async () => {
    const key = { type: 'feature', agentType: 'dev', featureId: 'too-large' } as const;
    const created = await codeAndDetails(client.create(key, { context: { notes: words(ROOM + 500) } }));
    expect(created).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'fixed-parts-too-large', room: ROOM },
    });
    expect(created?.message).toContain('larger maxTokens');
    expect((await client.list()).map((s) => s.id)).not.toContain('feature--too-large--dev');

    const { id } = await client.create(key, { context: { featureName: 'Export' } });
    const description = await client.getAgentDescription(id);
    expect(await codeAndDetails(client.setContext(id, { notes: words(2 * ROOM) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'fixed-parts-too-large', part: 'context' },
    });
    expect(
      await codeAndDetails(client.setAgentDescription(id, { role: 'dev', notes: words(ROOM + 100) })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { reason: 'fixed-parts-too-large' } });
    expect(await codeAndDetails(client.setContext(id, { notes: 'x'.repeat(MAX_BYTES + 1) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'too-many-bytes', maxBytes: MAX_BYTES },
    });
    expect(await client.getContext(id)).toEqual({ featureName: 'Export' });
    expect(await client.getAgentDescription(id)).toEqual(description);

    // One that leaves room is taken, and requests are built.
    await client.setContext(id, { notes: words(ROOM - 1_000) });
    expect((await client.previewRequest(id)).fits).toBe(true);
  });
});

describe('the object holds a setPart to the room itself', () => {
  it('refuses a part that passes the room beside the other part as stored (a client read it stale)', async () => {
    const key = { type: 'feature', agentType: 'dev', featureId: 'raced' } as const;
    const { id } = await client.create(key, { context: { notes: words(ROOM - 2_000) } });
    const description = await client.getAgentDescription(id);
    // What a client sends when its check read the context before another client's write of it:
    // the description fits beside the old context, not beside this one. The limits travel with it.
    const raced = await codeAndDetails(
      store.write(id, 'setPart', {
        part: 'description',
        value: { role: 'dev', notes: words(4_000) },
        at: new Date().toISOString(),
        limits: resolveLimits(LIMITS),
        feed: null,
        origin: 'test',
      }),
    );
    expect(raced).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'fixed-parts-too-large', part: 'agentDescription', room: ROOM },
    });
    expect(raced?.message).toContain(`setAgentDescription(${id})`);
    expect(await client.getAgentDescription(id)).toEqual(description);
    // Two clients' writes at once: whatever their order, one of them is refused.
    const both = await Promise.allSettled([
      client.setAgentDescription(id, { role: 'dev', notes: words(1_500) }),
      client.setContext(id, { notes: words(ROOM - 500) }),
    ]);
    expect(both.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const { agentDescription, context } = (await client.estimateSize(id)).breakdown;
    expect(agentDescription + context).toBeLessThan(ROOM);
  });
});

describe('a session stored with parts that alone pass maxTokens, on Restate', () => {
  it('starts no compaction at the threshold nor in buildRequest; requests say REQUEST_TOO_LARGE', async () => {
    const key = { type: 'feature', agentType: 'dev', featureId: 'hopeless' } as const;
    // Made under the default 100,000-token window, where these parts leave room.
    const wide = await createRestateSessionClient({ ingressUrl: server.ingressUrl, namespace: 'fixed' });
    const { id } = await wide.create(key, {
      agentDescription: { role: 'dev', instructions: words(15_000) },
      context: { projectNotes: words(15_000) },
    });
    await wide.close();
    // The compactor holds its calls: a compaction started stays running, and the object says so.
    compactions.held = new Promise<void>((resolve) => {
      compactions.release = () => {
        compactions.held = null;
        resolve();
      };
    });
    for (let i = 0; i < 3; i++) {
      await client.addMessage(id, { role: 'user', content: words(3_000) });
      expect(await store.read(id, 'compaction', undefined)).toBeNull();
    }
    compactions.release();
    await expect(client.buildRequest(id, 'Go on')).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    expect(await store.read(id, 'compaction', undefined)).toBeNull();
    expect(compactions.calls).toBe(0);
    expect(await client.getMessages(id)).toHaveLength(3);
  });
});

describe('a session stored with parts that reach the threshold but fit maxTokens, on Restate', () => {
  it('starts no compaction at the threshold nor in buildRequest; requests are built, saying why', async () => {
    const key = { type: 'feature', agentType: 'dev', featureId: 'near-limit' } as const;
    // 17,218 tokens of parts + 1,000 for the reply: at the threshold of 18,000 with no checkpoint and
    // no message, under maxTokens. Before: each append at the threshold started a compaction workflow.
    const wide = await createRestateSessionClient({ ingressUrl: server.ingressUrl, namespace: 'fixed' });
    const { id } = await wide.create(key, {
      agentDescription: { role: 'dev', instructions: words(8_600) },
      context: { projectNotes: words(8_600) },
    });
    await wide.close();
    const before = compactions.calls;
    compactions.held = new Promise<void>((resolve) => {
      compactions.release = () => {
        compactions.held = null;
        resolve();
      };
    });
    for (let i = 0; i < 3; i++) {
      await client.addMessage(id, { role: 'user', content: words(300) });
      expect(await store.read(id, 'compaction', undefined)).toBeNull();
    }
    compactions.release();
    const request = await client.buildRequest(id, 'Go on');
    expect(request.fits).toBe(true);
    expect(request.compacted).toBe(false);
    expect(request.compactionError?.code).toBe('COMPACTION_NO_PROGRESS');
    expect(request.compactionError?.message).toMatch(/reach the compaction threshold 18000/);
    expect(await store.read(id, 'compaction', undefined)).toBeNull();
    expect(compactions.calls).toBe(before);
  });
});
