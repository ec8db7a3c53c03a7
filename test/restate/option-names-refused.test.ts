/**
 * The Restate runtime (restate-runtime.ts, the runtime a session client serves) against a real
 * restate-server refuses a name that is none of a method's options, as the in-process runtime
 * does (test/core/option-names-refused.test.ts): `INVALID_ARGUMENT` naming it, before anything is
 * written or the model is called. A name whose value is `undefined` is let be, and the right name
 * is taken. Both runtimes refuse each name with the same code and message, and so do the session
 * client's and an in-process SessionAPI (there the IPC's argument checks refuse it first).
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { compactionWorkflow } from '../../src/restate/compaction-workflow.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { sessionEvents, sessionEventsWait } from '../../src/restate/event-feed.js';
import { createRestateRuntime, type RestateRuntime } from '../../src/restate/restate-runtime.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { createTurnService } from '../../src/restate/turn-service.js';
import type { SendOptions } from '../../src/runtime/conversation.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { HistoryQuery } from '../../src/runtime/history.js';
import type { ClearOptions, CreateSessionOptions, SessionRuntime } from '../../src/runtime/types.js';
import { createMemorySessionStore } from '../../src/store/memory-session-store.js';
import { startMessagesApiServer, type MessagesApiServer } from '../support/messages-api-server.js';
import { useRestateServer } from '../support/restate-server.js';
import { estimator } from './fixtures/sessions.js';

const server = useRestateServer();
const LIMITS = { maxTokens: 8_000 };
const NAMESPACE = 'options';
let api: MessagesApiServer;
let endpoint: RestateEndpointServer;
let restate: RestateRuntime;
let reading: RestateRuntime;
let local: SessionRuntime;
let client: RestateSessionClient;
let inProcess: SessionAPI;

const anthropic = () => new Anthropic({ apiKey: 'test', baseURL: api.url, maxRetries: 0 });
const keyOf = (featureId: string): SessionKey => ({ type: 'feature', agentType: 'dev', featureId });
const refused = (name: string, options: string) => ({
  code: 'INVALID_ARGUMENT',
  message: expect.stringContaining(`"${name}" is not an option; the options are ${options}`),
});
/** What a call threw: its code and message, to compare two runtimes. */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => ({ code: 'resolved', message: '' }),
    (error: { code?: string; message?: string }) => ({ code: error.code, message: error.message }),
  );

beforeAll(async () => {
  api = await startMessagesApiServer();
  endpoint = await serveRestateEndpoint({
    services: [
      sessionObject,
      sessionDirectory,
      compactionWorkflow,
      createTurnService({ client: anthropic, model: 'claude-test', estimator: () => estimator }),
      sessionEvents,
      sessionEventsWait,
    ],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
  const options = { limits: LIMITS, client: anthropic(), model: 'claude-test' };
  restate = await createRestateRuntime({
    ...options,
    ingressUrl: server.ingressUrl,
    namespace: NAMESPACE,
    publishEvents: false,
  });
  reading = await createRestateRuntime({
    ...options,
    ingressUrl: server.ingressUrl,
    namespace: NAMESPACE,
    readOnly: true,
  });
  local = await createSessionRuntime({ ...options, store: createMemorySessionStore() });
  client = await createRestateSessionClient({
    ...options,
    ingressUrl: server.ingressUrl,
    namespace: NAMESPACE,
    publishEvents: false,
  });
  const handlers = createSessionHandlers(local);
  inProcess = createSessionApiFromInvoke(
    (channel, ...args) => (handlers[channel] as (...a: unknown[]) => Promise<unknown>)(...args),
    (deliver) => local.subscribe(deliver),
  );
}, 60_000);

afterAll(async () => {
  await client?.close();
  await restate?.close();
  await reading?.close();
  await local?.close();
  await endpoint?.close();
  await api?.close();
});

/** A session of `featureId` with `turns` messages of about 300 tokens each, below the threshold. */
async function sessionWith(runtime: SessionRuntime, featureId: string, turns: number): Promise<string> {
  const { id } = await runtime.createSession(keyOf(featureId));
  for (let i = 0; i < turns; i++) {
    await runtime.addMessage(id, {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(30)}`,
    });
  }
  return id;
}

/** What a refused call must leave as it was: the messages, the checkpoint versions, the history. */
async function written(runtime: SessionRuntime, id: string) {
  return {
    live: (await runtime.getMessages(id)).map((m) => m.seq),
    history: (await runtime.getHistory(id)).map((m) => m.seq),
    versions: await runtime.getCheckpointVersions(id),
  };
}

describe('the Restate runtime refuses a name that is none of its options, writing nothing', () => {
  it('createSession: a misspelt context is refused and no session is created', async () => {
    const runtime = restate.runtime;
    const misspelt = { contxt: { repo: 'r' } } as CreateSessionOptions;
    await expect(runtime.createSession(keyOf('create'), misspelt)).rejects.toMatchObject(
      refused('contxt', 'context, agentDescription, checkpoint'),
    );
    const listed = (await runtime.listSessions()).map((s) => s.key.featureId);
    expect(listed).not.toContain('create');
    const loose = {
      context: { repo: 'r' },
      checkpoint: undefined,
      contxt: undefined,
    } as CreateSessionOptions;
    const { id } = await runtime.createSession(keyOf('create'), loose);
    expect(await runtime.getContext(id)).toEqual({ repo: 'r' });
  });

  it('compact: a misspelt keepRecentTokens is refused and nothing is compacted', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'compact', 6);
    const before = await written(runtime, id);
    expect(before.versions).toEqual([]);
    const misspelt = { keepRecent: 0 } as { keepRecentTokens?: number };
    await expect(runtime.compact(id, misspelt)).rejects.toMatchObject(
      refused('keepRecent', 'keepRecentTokens'),
    );
    expect(await written(runtime, id)).toEqual(before);
    const loose = { keepRecentTokens: 0, keepRecent: undefined } as { keepRecentTokens?: number };
    const compacted = await runtime.compact(id, loose);
    expect(compacted.checkpointVersion).toBe(1);
    expect(compacted.messagesCompacted).toBe(6);
  });

  it('getCheckpoint and getHistory: misspelt names are refused, the right ones read what they name', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'reads', 4);
    await runtime.compact(id, { keepRecentTokens: 0 });
    await runtime.addMessage(id, { role: 'user', content: 'after the first checkpoint' });
    await runtime.compact(id, { keepRecentTokens: 0 });
    expect(await runtime.getCheckpointVersions(id)).toEqual([1, 2]);

    const checkpointOptions = { versoin: 1 } as { version?: number };
    await expect(runtime.getCheckpoint(id, checkpointOptions)).rejects.toMatchObject(
      refused('versoin', 'version'),
    );
    const loose = { version: 1, versoin: undefined } as { version?: number };
    expect((await runtime.getCheckpoint(id, loose))?.version).toBe(1);

    const query = { limt: 1 } as HistoryQuery;
    await expect(runtime.getHistory(id, query)).rejects.toMatchObject(
      refused('limt', 'after, before, limit, order'),
    );
    const page = await runtime.getHistory(id, { limit: 1, limt: undefined } as HistoryQuery);
    expect(page.map((m) => m.seq)).toEqual([4]);
  });

  it('previewRequest and buildRequest: a misspelt format is refused before any room is made', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'requests', 16);
    const estimate = await runtime.estimateSize(id);
    expect(estimate.needsCompaction).toBe(false);
    // A message that alone crosses the threshold: a build compacts first, a refused one must not.
    const message = 'word '.repeat(estimate.threshold - estimate.total + 50);
    const before = await written(runtime, id);
    const misspelt = { fromat: 'messages' } as { format?: 'messages' };
    await expect(runtime.previewRequest(id, 'Hi', misspelt)).rejects.toMatchObject(
      refused('fromat', 'format, cache'),
    );
    await expect(runtime.buildRequest(id, message, misspelt)).rejects.toMatchObject(
      refused('fromat', 'format, cache'),
    );
    expect(await written(runtime, id)).toEqual(before);

    const loose = { format: 'messages', fromat: undefined } as { format?: 'messages' };
    const preview = await runtime.previewRequest(id, 'Hi', loose);
    expect(preview.messages.at(-1)).toMatchObject({ role: 'user' });
    const built = await runtime.buildRequest(id, message, loose);
    expect(built).toMatchObject({ compacted: true, compactionError: null, fits: true });
    expect((await runtime.getCheckpointVersions(id)).length).toBe(1);
  });

  it('send: a misspelt idempotencyKey is refused before the turn: no message stored, no model call', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'send', 2);
    const before = await written(runtime, id);
    const calls = api.requests.length;
    const misspelt = { idempotncyKey: 'turn-1' } as SendOptions;
    await expect(runtime.send(id, 'Next?', misspelt)).rejects.toMatchObject(
      refused('idempotncyKey', 'client, model, maxTokens, signal, cache, idempotencyKey'),
    );
    expect(await written(runtime, id)).toEqual(before);
    expect(api.requests.length).toBe(calls);

    const loose = { idempotencyKey: 'turn-1', idempotncyKey: undefined } as SendOptions;
    await runtime.send(id, 'Next?', loose);
    // The key is taken: the same turn again stores nothing more.
    await runtime.send(id, 'Next?', { idempotencyKey: 'turn-1' });
    expect((await runtime.getMessages(id)).map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
  });

  it('calibrate: a misspelt model is refused before the count', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'calibrate', 2);
    const calls = api.requests.length;
    const misspelt = { modle: 'claude-other' } as { model?: string };
    await expect(runtime.calibrate(id, misspelt)).rejects.toMatchObject(refused('modle', 'client, model'));
    expect(api.requests.length).toBe(calls);
    const loose = { model: 'claude-other', modle: undefined } as { model?: string };
    expect((await runtime.calibrate(id, loose)).model).toBe('claude-other');
    expect(api.requests.at(-1)?.answer).toBe('count_tokens');
  });

  it('clearMessages: a misspelt name is refused and nothing is archived', async () => {
    const runtime = restate.runtime;
    const id = await sessionWith(runtime, 'clear', 2);
    const before = await written(runtime, id);
    const misspelt = { decisons: [] } as ClearOptions;
    await expect(runtime.clearMessages(id, misspelt)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('"decisons"'),
    });
    expect(await written(runtime, id)).toEqual(before);
    const cleared = await runtime.clearMessages(id, { decisions: [] });
    expect(cleared.archivedMessages).toBe(2);
  });
});

describe('the Restate and the in-process runtime refuse the same names with the same code and message', () => {
  type Call = (runtime: SessionRuntime, id: string) => Promise<unknown>;
  const CALLS: Record<string, Call> = {
    createSession: (r) => r.createSession(keyOf('same-new'), { contxt: {} } as CreateSessionOptions),
    getHistory: (r, id) => r.getHistory(id, { limt: 1 } as HistoryQuery),
    getCheckpoint: (r, id) => r.getCheckpoint(id, { versoin: 1 } as { version?: number }),
    compact: (r, id) => r.compact(id, { keepRecent: 0 } as { keepRecentTokens?: number }),
    previewRequest: (r, id) => r.previewRequest(id, 'Hi', { fromat: 'messages' } as { format?: 'messages' }),
    buildRequest: (r, id) => r.buildRequest(id, 'Hi', { fromat: 'messages' } as { format?: 'messages' }),
    send: (r, id) => r.send(id, 'Hi', { idempotncyKey: 'k' } as SendOptions),
    calibrate: (r, id) => r.calibrate(id, { modle: 'm' } as { model?: string }),
    clearMessages: (r, id) => r.clearMessages(id, { decisons: [] } as ClearOptions),
  };

  it('every method that takes options', async () => {
    const there = await sessionWith(restate.runtime, 'same', 2);
    const here = await sessionWith(local, 'same', 2);
    expect(there).toBe(here);
    for (const [method, call] of Object.entries(CALLS)) {
      const restateFailure = await failure(call(restate.runtime, there));
      expect(restateFailure.code, method).toBe('INVALID_ARGUMENT');
      expect(restateFailure, method).toEqual(await failure(call(local, here)));
    }
    expect(await written(restate.runtime, there)).toEqual(await written(local, here));
    expect((await restate.runtime.listSessions()).map((s) => s.key.featureId)).not.toContain('same-new');
  });

  it('a read-only Restate runtime as a read-only in-process runtime on the same sessions', async () => {
    const id = await sessionWith(restate.runtime, 'same-read', 2);
    const inProcessReading = await createSessionRuntime({
      store: createRestateSessionStore({
        ingressUrl: server.ingressUrl,
        namespace: NAMESPACE,
        readOnly: true,
      }),
      root: `restate:${server.ingressUrl}`,
      readOnly: true,
      limits: LIMITS,
      client: anthropic(),
      model: 'claude-test',
    });
    try {
      for (const [method, call] of Object.entries(CALLS)) {
        const readOnlyFailure = await failure(call(reading.runtime, id));
        expect(readOnlyFailure.code, method).toBe('INVALID_ARGUMENT');
        expect(readOnlyFailure, method).toEqual(await failure(call(inProcessReading, id)));
      }
    } finally {
      await inProcessReading.close();
    }
    expect(await written(reading.runtime, id)).toEqual(await written(restate.runtime, id));
  });
});

describe('the session client refuses them too, as an in-process SessionAPI', () => {
  type Call = (api: SessionAPI, id: string) => Promise<unknown>;
  const CALLS: Record<string, [string, Call]> = {
    create: ['contxt', (a) => a.create(keyOf('api-new'), { contxt: {} } as CreateSessionOptions)],
    getHistory: ['limt', (a, id) => a.getHistory(id, { limt: 1 } as HistoryQuery)],
    getCheckpoint: ['versoin', (a, id) => a.getCheckpoint(id, { versoin: 1 } as { version?: number })],
    compact: ['keepRecent', (a, id) => a.compact(id, { keepRecent: 0 } as { keepRecentTokens?: number })],
    previewRequest: [
      'fromat',
      (a, id) => a.previewRequest(id, 'Hi', { fromat: 'messages' } as { format?: 'messages' }),
    ],
    buildRequest: [
      'fromat',
      (a, id) => a.buildRequest(id, 'Hi', { fromat: 'messages' } as { format?: 'messages' }),
    ],
    send: ['idempotncyKey', (a, id) => a.send(id, 'Hi', { idempotncyKey: 'k' } as SendOptions)],
    getRecentMessages: [
      'includeInternl',
      (a, id) => a.getRecentMessages(id, 5, { includeInternl: true } as { includeInternal?: boolean }),
    ],
  };

  it('every method that takes options', async () => {
    const there = (await client.create(keyOf('api'))).id;
    const here = (await inProcess.create(keyOf('api'))).id;
    await client.addMessage(there, { role: 'user', content: 'hello' });
    await inProcess.addMessage(here, { role: 'user', content: 'hello' });
    for (const [method, [name, call]] of Object.entries(CALLS)) {
      const clientFailure = await failure(call(client, there));
      expect(clientFailure, method).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`"${name}"`),
      });
      expect(clientFailure, method).toEqual(await failure(call(inProcess, here)));
    }
    expect((await client.getHistory(there)).map((m) => m.content)).toEqual(['hello']);
    expect(await client.getCheckpointVersions(there)).toEqual([]);
    expect((await client.list()).map((s) => s.key.featureId)).not.toContain('api-new');
  });
});
