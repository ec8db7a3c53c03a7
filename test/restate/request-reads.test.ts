/**
 * The `session` object's request reads (`estimate`, `previewRequest`, `buildRequest`) against a real
 * restate-server (one for this file): the session client's answers, computed by the object, equal
 * what the in-process runtime answers over the same session (the runtime reading the same object
 * state through a read-only store) for a session with a context, a description, archived messages,
 * a checkpoint and an internal live message.
 */
import * as clients from '@restatedev/restate-sdk-clients';
import type { VirtualObjectDefinition } from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInternalMessage } from '../../src/core/request-size.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { restateServices } from '../../src/restate/services.js';
import type { Outcome } from '../../src/restate/session-state.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { defaultLimits, resolveLimits } from '../../src/runtime/limits.js';
import type { SessionRuntime, SizeEstimate } from '../../src/runtime/types.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
const LIMITS = { maxTokens: 8_000 };
const NAMESPACE = 'requests';
let endpoint: RestateEndpointServer;
let client: RestateSessionClient;
let inProcess: SessionRuntime;
let id: string;

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  client = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: NAMESPACE,
    limits: LIMITS,
    publishEvents: false,
  });
  inProcess = await createSessionRuntime({
    store: createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: NAMESPACE, readOnly: true }),
    root: 'restate-in-process',
    limits: LIMITS,
    readOnly: true,
  });
  const info = await client.create(
    { type: 'feature', agentType: 'dev', featureId: 'requests' },
    {
      context: { featureName: 'Login', featureGoal: 'a login page', projectNotes: 'TypeScript, React' },
      agentDescription: { role: 'developer', instructions: 'Write small tested changes', tools: ['edit'] },
    },
  );
  id = info.id;
  for (let i = 0; i < 24; i++) {
    await client.addMessage(id, {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(12)}`,
    });
  }
  const compacted = await client.compact(id, { keepRecentTokens: 400 });
  expect(compacted.messagesCompacted).toBeGreaterThan(0);
  await client.addMessage(id, {
    role: 'user',
    content: 'a note kept out of requests',
    metadata: { internal: true },
  });
  await client.addMessage(id, {
    role: 'assistant',
    content: `after the compaction: ${'more words '.repeat(20)}`,
  });
}, 60_000);

/** The session's object itself, called as any Restate client would, with the handlers `T` names. */
function sessionObject<T>(): T {
  return clients
    .connect({ url: server.ingressUrl })
    .objectClient(
      { name: 'session' } as VirtualObjectDefinition<string, unknown>,
      `${NAMESPACE}/${id}`,
    ) as unknown as T;
}

afterAll(async () => {
  await client?.close();
  await inProcess?.close();
  await endpoint?.close();
});

describe('the session object answers the request reads as the in-process runtime', () => {
  it('estimate: the same figures, from the head sums, internal messages left out', async () => {
    const history = await client.getHistory(id);
    const live = await client.getMessages(id);
    expect(history.length).toBeGreaterThan(live.length); // messages were archived
    expect(live.some(isInternalMessage)).toBe(true);

    const estimate = await client.estimateSize(id);
    expect(estimate).toEqual(await inProcess.estimateSize(id));
    expect(estimate.breakdown.checkpoint).toBeGreaterThan(0);
    expect(estimate.breakdown.agentDescription).toBeGreaterThan(0);
    expect(estimate.breakdown.context).toBeGreaterThan(0);
    const sent = live.filter((m) => !isInternalMessage(m)).reduce((sum, m) => sum + m.tokens, 0);
    expect(estimate.breakdown.messages).toBe(sent);
    expect(estimate.liveMessages).toBe(live.length);

    // The object's own handler, called as any Restate client would.
    const object = sessionObject<{ estimate(call: unknown): Promise<Outcome<SizeEstimate>> }>();
    const answer = await object.estimate({ limits: resolveLimits(LIMITS, defaultLimits()), correction: 1 });
    expect(answer).toEqual({ ok: true, value: estimate });
  });

  it('previewRequest: the same request, with and without a user message, in both formats', async () => {
    for (const format of ['flattened', 'messages'] as const) {
      for (const message of [undefined, 'What next?']) {
        const preview = await client.previewRequest(id, message, { format });
        expect(preview).toEqual(await inProcess.previewRequest(id, message, { format }));
        expect(preview.breakdown.checkpoint).toBeGreaterThan(0);
      }
    }
    // The object's own handler answers the request the client returns (less model and room).
    const object = sessionObject<{ previewRequest(call: unknown): Promise<Outcome<unknown>> }>();
    const limits = resolveLimits(LIMITS, defaultLimits());
    const {
      model: _model,
      compacted: _c,
      compactionError: _e,
      ...built
    } = await client.previewRequest(id, 'Hi', {
      format: 'messages',
    });
    expect(
      await object.previewRequest({ limits, correction: 1, userMessage: 'Hi', format: 'messages' }),
    ).toEqual({
      ok: true,
      value: built,
    });
    const uncached = await client.previewRequest(id, 'No cache', { format: 'messages', cache: false });
    expect(uncached).toEqual(
      await inProcess.previewRequest(id, 'No cache', { format: 'messages', cache: false }),
    );
  });

  it('buildRequest: the same request (no room needed), and the same errors', async () => {
    const blocks = [{ type: 'text' as const, text: 'Build the form' }];
    const built = await client.buildRequest(id, blocks, { format: 'messages' });
    expect(built).toEqual(await inProcess.buildRequest(id, blocks, { format: 'messages' }));
    expect(built.compacted).toBe(false);
    expect(built.messages.at(-1)).toMatchObject({ role: 'user', content: [{ text: 'Build the form' }] });
    // The object's own checks, as the runtime's: a user message is needed, and a request that does
    // not fit even without messages is REQUEST_TOO_LARGE.
    const object = sessionObject<{ buildRequest(call: unknown): Promise<Outcome<unknown>> }>();
    const limits = resolveLimits({ maxTokens: 2_000 }, defaultLimits());
    const refused = async (userMessage: unknown) => {
      const answer = await object.buildRequest({ limits, correction: 1, userMessage });
      return answer.ok ? 'built' : answer.error.code;
    };
    expect(await refused(null)).toBe('INVALID_ARGUMENT');
    expect(await refused('word '.repeat(4_000))).toBe('REQUEST_TOO_LARGE');
    expect(await refused('short')).toBe('built');
    await expect(client.estimateSize('feature--nothing--dev')).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
  });
});

describe("the client's buildRequest counts the new message when it decides to make room", () => {
  it('a message that alone crosses the threshold gets a compaction first, as in-process', async () => {
    const info = await client.create({
      type: 'feature',
      agentType: 'dev',
      featureId: 'room-for-the-message',
    });
    for (let i = 0; i < 16; i++) {
      await client.addMessage(info.id, {
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `turn ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(30)}`,
      });
    }
    const before = await client.estimateSize(info.id);
    expect(before.needsCompaction).toBe(false); // the session alone is below the threshold
    const message = 'word '.repeat(before.threshold - before.total + 50);
    const inProcessTokens = Math.ceil(inProcess.estimator.estimateContent(message));
    expect(before.total + inProcessTokens).toBeGreaterThanOrEqual(before.threshold);

    const built = await client.buildRequest(info.id, message, { format: 'messages' });
    expect(built).toMatchObject({ compacted: true, compactionError: null, fits: true });
    expect((await client.getHistory(info.id)).length).toBeGreaterThan(
      (await client.getMessages(info.id)).length,
    );
    expect(built.breakdown.checkpoint).toBeGreaterThan(0);
    expect((await client.estimateSize(info.id)).total + inProcessTokens).toBeLessThan(before.threshold);
  });
});
