/**
 * `sessionTurn.send` against a real restate-server and the real Anthropic SDK pointed at our
 * loopback Messages API server: the user message and the reply are appended once each, in order,
 * the request carries the session's messages, and a crash right after the model step (the hook
 * throws once, Restate retries the turn) does not call the model again; a session past its
 * threshold is compacted (the compaction workflow) before the request is built, as in-process,
 * instead of leaving its oldest messages out.
 */
import Anthropic from '@anthropic-ai/sdk';
import * as clients from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { createCompactionWorkflow } from '../../src/restate/compaction-workflow.js';
import { sessionEvents, sessionEventsWait } from '../../src/restate/event-feed.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { createTurnService, type TurnResult } from '../../src/restate/turn-service.js';
import { startMessagesApiServer, type MessagesApiServer } from '../support/messages-api-server.js';
import { useRestateServer } from '../support/restate-server.js';
import { estimator, recordOf, sessionId, textMessage } from './fixtures/sessions.js';

/** The offline compactor, its calls counted. */
let compactorCalls = 0;
class CountingCompactor implements Compactor {
  readonly name = 'counting-offline';
  readonly maxInputTokens = 200_000;
  readonly #inner = new OfflineCompactor();
  compact(input: CompactionInput, options: CompactOptions) {
    compactorCalls++;
    return this.#inner.compact(input, options);
  }
}
const compactionWorkflow = createCompactionWorkflow({ compactor: () => new CountingCompactor() });

let crashes = 0;
let afterModel = 0;
const server = useRestateServer();
let api: MessagesApiServer;
let endpoint: RestateEndpointServer;
const clients_: RestateSessionClient[] = [];

/** A session client of namespace `t` (the model option only serves a client-side turn). */
async function sessionClient(): Promise<RestateSessionClient> {
  const client = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 't',
    model: 'claude-test',
    client: new Anthropic({ apiKey: 'test', baseURL: api.url, maxRetries: 0 }),
  });
  clients_.push(client);
  return client;
}
const turnService = createTurnService({
  client: () => new Anthropic({ apiKey: 'test', baseURL: api.url, maxRetries: 0 }),
  model: 'claude-test',
  estimator: () => estimator,
  hooks: {
    afterModel: () => {
      afterModel++;
      if (crashes > 0) {
        crashes--;
        throw new Error('simulated crash right after the model step');
      }
    },
  },
});

beforeAll(async () => {
  api = await startMessagesApiServer();
  endpoint = await serveRestateEndpoint({
    services: [
      sessionObject,
      sessionDirectory,
      turnService,
      compactionWorkflow,
      sessionEvents,
      sessionEventsWait,
    ],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
});

afterAll(async () => {
  for (const client of clients_) await client.close();
  await endpoint?.close();
  await api?.close();
});

describe('a conversation turn on Restate', () => {
  it(
    'appends the user message and the reply once each; ' +
      'a crash after the model step does not call it again',
    async () => {
      const store = createRestateSessionStore({ ingressUrl: server.ingressUrl });
      const id = sessionId('turn');
      await store.create(recordOf(id));
      await store.append(id, [textMessage(0), textMessage(1)]);
      crashes = 1;
      const before = api.requests.length;
      const ingress = clients.connect({ url: server.ingressUrl });
      const result = (await ingress
        .objectClient(turnService, id)
        .send({ content: 'What next?', limits: { maxTokens: 20_000 } })) as TurnResult;

      expect(api.requests.length - before).toBe(1);
      expect(afterModel).toBe(2); // the turn ran past the step twice, the model was called once
      const head = await store.load(id);
      expect(head.messages.map((m) => [m.seq, m.role])).toEqual([
        [0, 'user'],
        [1, 'assistant'],
        [2, 'user'],
        [3, 'assistant'],
      ]);
      expect(head.messages[2]!.content).toBe('What next?');
      expect(head.messages[3]).toEqual(result.reply);
      expect(result.reply.metadata).toMatchObject({
        model: expect.any(String),
        usage: { inputTokens: expect.any(Number) },
      });
      // The request sent the session's messages and the new one, in the messages form.
      const sent = JSON.stringify(api.requests[api.requests.length - 1]!.body);
      expect(sent).toContain('message 0:');
      expect(sent).toContain('What next?');
    },
  );

  it('compacts a session past its threshold through the workflow before the request, leaving nothing out', async () => {
    const store = createRestateSessionStore({ ingressUrl: server.ingressUrl });
    const id = sessionId('full');
    await store.create(recordOf(id));
    const messages = Array.from({ length: 40 }, (_, seq) => textMessage(seq, 80));
    await store.append(id, messages);
    const limits = { maxTokens: 3_000, replyReserveTokens: 300, keepRecentTokens: 500 };
    const ingress = clients.connect({ url: server.ingressUrl });
    const result = (await ingress
      .objectClient(turnService, id)
      .send({ content: 'And now?', limits })) as TurnResult;

    expect(result.compactionError).toBeNull();
    expect(result.request.omittedMessages).toBe(0);
    const head = await store.load(id);
    expect(head.checkpoint?.compactionInfo.archivedThroughSeq).toBeGreaterThanOrEqual(0);
    // Nothing lost: the archive and the live messages hold every message once, in order.
    const archived = (await store.readArchive(id)).messages;
    expect([...archived, ...head.messages].map((m) => m.seq)).toEqual(
      Array.from({ length: 42 }, (_, i) => i),
    );
    expect(JSON.stringify(api.requests[api.requests.length - 1]!.body)).toContain('And now?');
  });

  it('starts no compaction for a session whose description and context alone pass maxTokens', async () => {
    const words = (tokens: number) => 'word '.repeat(tokens);
    // Made under the default window, where these parts leave room; sent under a 20,000 one.
    const { id } = await (
      await sessionClient()
    ).create(
      { type: 'feature', agentType: 'dev', featureId: 'hopeless-turn' },
      {
        agentDescription: { role: 'dev', instructions: words(15_000) },
        context: { projectNotes: words(15_000) },
      },
    );
    const narrow = await createRestateSessionClient({
      ingressUrl: server.ingressUrl,
      namespace: 't',
      limits: { maxTokens: 20_000 },
      model: 'claude-test',
      client: new Anthropic({ apiKey: 'test', baseURL: api.url, maxRetries: 0 }),
    });
    clients_.push(narrow);
    const calls = compactorCalls;
    const requests = api.requests.length;
    await expect(narrow.send(id, 'Go on')).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    // Before: the turn started the compaction workflow (2 compactor calls) that could not help.
    expect(compactorCalls).toBe(calls);
    expect(api.requests.length).toBe(requests);
    expect((await narrow.getMessages(id)).map((m) => m.content)).toEqual(['Go on']);
  });

  it('serialises the turns of two clients on one session: both whole, in order, none refused', async () => {
    const [one, two] = [await sessionClient(), await sessionClient()];
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'turns' });
    const before = api.requests.length;
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([
        one.send(info.id, `one asks ${round}`),
        two.send(info.id, `two asks ${round}`),
      ]);
      expect(a.replayed || b.replayed).toBe(false);
    }
    expect(api.requests.length - before).toBe(6);
    const history = await one.getHistory(info.id);
    expect(history.length).toBe(12);
    // Each user message is followed by its own reply: the turns did not interleave.
    for (let i = 0; i < history.length; i += 2) {
      expect([history[i]!.role, history[i + 1]!.role]).toEqual(['user', 'assistant']);
      expect(JSON.stringify(history[i + 1]!.content)).toContain(String(history[i]!.content));
    }
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i));
  });

  it('replays a turn sent again with its idempotency key, and refuses the key for another message', async () => {
    const one = await sessionClient();
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'keyed' });
    const before = api.requests.length;
    const first = await one.send(info.id, 'Only once', { idempotencyKey: 'turn-1' });
    const again = await one.send(info.id, 'Only once', { idempotencyKey: 'turn-1' });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.message).toEqual(first.message);
    expect(api.requests.length - before).toBe(1);
    await expect(one.send(info.id, 'Something else', { idempotencyKey: 'turn-1' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    api.script([{ kind: 'status', status: 400, message: 'bad request' }]);
    await expect(one.send(info.id, 'A bad one')).rejects.toMatchObject({ code: 'MODEL_FAILED' });
    // The user message of the failed turn is kept, as in-process.
    expect((await one.getHistory(info.id)).map((m) => m.content)).toEqual([
      'Only once',
      first.message.content,
      'A bad one',
    ]);
  });
});
