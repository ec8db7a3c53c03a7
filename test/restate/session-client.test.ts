/**
 * `createRestateSessionClient` against a real restate-server (one for this file), the services
 * in this process: the SessionAPI answers as an in-process runtime on the memory store does for
 * the same calls; a second client reads what the first wrote and receives its events through the
 * feed; the limits come back as SessionErrors with their codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionIpcError, type SessionAPI } from '../../src/ipc/channels.js';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { MAX_MESSAGE_BYTES } from '../../src/restate/limits.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { restateServices } from '../../src/restate/services.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { createMemorySessionStore } from '../../src/store/memory-session-store.js';
import { run } from '../cli/cli-helpers.js';
import { useRestateServer } from '../support/restate-server.js';
import { recordOf, sessionId, textMessage } from './fixtures/sessions.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let writer: RestateSessionClient;
let reader: RestateSessionClient;
let local: SessionRuntime;
let inProcess: SessionAPI;
const LIMITS = { maxTokens: 8_000 };
const NOW = () => new Date(Date.UTC(2026, 0, 2));

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  writer = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 'c',
    limits: LIMITS,
    now: NOW,
  });
  reader = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 'c',
    limits: LIMITS,
    readOnly: true,
    pollMs: 2_000,
  });
  local = await createSessionRuntime({ store: createMemorySessionStore(), limits: LIMITS, now: NOW });
  const handlers = createSessionHandlers(local);
  inProcess = createSessionApiFromInvoke(
    (channel, ...args) => (handlers[channel] as (...a: unknown[]) => Promise<unknown>)(...args),
    (deliver) => local.subscribe(deliver),
  );
});

afterAll(async () => {
  await writer?.close();
  await reader?.close();
  await local?.close();
  await endpoint?.close();
});

/** The conversation both sides run: create, 40 turns, a compaction, then reads. */
async function converse(api: SessionAPI) {
  const info = await api.create({ type: 'feature', agentType: 'dev', featureId: 'parity' });
  for (let i = 0; i < 40; i++) {
    await api.addMessage(info.id, {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i}: ${'the quick brown fox '.repeat(30)}`,
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    });
  }
  const compacted = await api.compact(info.id);
  return {
    id: info.id,
    compacted,
    messages: await api.getMessages(info.id),
    history: await api.getHistory(info.id),
    page: await api.getHistory(info.id, { limit: 5, order: 'desc' }),
    checkpoint: await api.getCheckpoint(info.id),
    estimate: await api.estimateSize(info.id),
    request: await api.previewRequest(info.id, 'what next?'),
  };
}

describe('createRestateSessionClient', () => {
  it('answers as an in-process runtime does; another client reads it and receives its events', async () => {
    const seen: SessionEvent[] = [];
    let completed!: () => void;
    const done = new Promise<void>((resolve) => (completed = resolve));
    const stop = reader.onEvent((event) => {
      seen.push(event);
      if (event.type === 'session.compaction.completed') completed();
    });
    await reader.eventsConnected();

    const there = await converse(writer);
    const here = await converse(inProcess);
    // Equal but for what differs between any two runs: generated message ids, wall-clock times.
    const strip = (value: unknown) =>
      JSON.parse(
        JSON.stringify(value)
          .replaceAll(/"(createdAt|updatedAt)":"[^"]*"/g, '"$1":""')
          .replaceAll(/"durationMs":\d+/g, '"durationMs":0')
          .replaceAll(/msg_[0-9a-f-]{36}/g, 'msg_'),
      ) as unknown;
    expect(strip(there)).toEqual(strip(here));
    expect(there.compacted.messagesCompacted).toBeGreaterThan(0);

    // A second client (another runtime) reads the same session from the server.
    expect(await reader.getHistory(there.id)).toEqual(there.history);
    expect((await reader.list()).map((s) => s.id)).toContain(there.id);

    await done;
    stop();
    const appended = seen.filter((e) => e.type === 'session.message.appended' && e.sessionId === there.id);
    expect(appended).toHaveLength(40);
    expect(seen.some((e) => e.type === 'session.created')).toBe(true);
  });

  it("serves the CLI's reading commands with --restate URL; refuses it for writing commands", async () => {
    const url = server.ingressUrl;
    // The CLI reads the default namespace.
    const plain = await createRestateSessionClient({ ingressUrl: url, limits: LIMITS });
    const mine = await plain.create({ type: 'feature', agentType: 'dev', featureId: 'cli' });
    await plain.addMessage(mine.id, { role: 'user', content: 'read me from the CLI' });
    await plain.close();
    const list = await run('list', '--restate', url, '--json');
    expect(list.stderr()).toBe('');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout()) as { id: string }[]).map((s) => s.id)).toContain(mine.id);
    const show = await run('show', mine.id, '--restate', url);
    expect(show.code).toBe(0);
    expect(show.stdout()).toContain('read me from the CLI');
    const compact = await run('compact', mine.id, '--restate', url);
    expect(compact.code).toBe(1);
    expect(compact.stderr()).toContain('--restate URL works with list, show, preview, export only');
  });

  it('refuses a message over the limits with MESSAGE_TOO_LARGE, from the runtime and from the object', async () => {
    const info = await writer.create({ type: 'feature', agentType: 'dev', featureId: 'big' });
    const huge = 'x'.repeat(17 * 1024 * 1024);
    const error = await writer.addMessage(info.id, { role: 'user', content: huge }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionIpcError);
    expect((error as SessionIpcError).code).toBe('MESSAGE_TOO_LARGE');

    // The object's own cap, for stores used without the runtime.
    const store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'c2' });
    const id = sessionId('big');
    await store.create(recordOf(id));
    const message = { ...textMessage(0), content: 'y'.repeat(MAX_MESSAGE_BYTES + 1) };
    await expect(store.append(id, [message])).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect((await store.load(id)).lastSeq).toBe(-1);
  });

  it('keeps a session larger than the 32 MiB value cap: each message its own key, reads in pages', async () => {
    const store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'big' });
    const id = sessionId('huge');
    await store.create(recordOf(id));
    // 10 messages of 3.5 MiB: 35 MiB of history, more than one value or answer may hold.
    const messages = Array.from({ length: 10 }, (_, seq) => ({
      ...textMessage(seq),
      content: `${seq} ${'z'.repeat(3.5 * 2 ** 20)}`,
    }));
    for (const message of messages) await store.append(id, [message]);
    const head = await store.load(id);
    expect(head.messages.map((m) => m.seq)).toEqual(messages.map((m) => m.seq));
    expect(head.messages.every((m, i) => m.content === messages[i]!.content)).toBe(true);
  });

  it('registers lazy state, and no journal for the handlers that carry message text', async () => {
    const response = await fetch(`${server.adminUrl}/services/session`);
    const service = (await response.json()) as {
      enable_lazy_state?: boolean;
      handlers: { name: string; journal_retention?: string }[];
    };
    expect(service.enable_lazy_state).toBe(true);
    const retention = Object.fromEntries(
      service.handlers.map((h) => [h.name, h.journal_retention ?? 'default']),
    );
    for (const name of [
      'create',
      'append',
      'appendNumbered',
      'commit',
      'recordChecks',
      'load',
      'live',
      'archive',
    ])
      expect(retention[name], name).toMatch(/^0/);
  });
});
