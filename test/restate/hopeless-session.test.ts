/**
 * A session whose agent description and context alone (with the reply's room) pass `maxTokens`
 * (made under larger limits): no compaction can help (`noCompactionCanHelp`). The same scenario on
 * both runtimes, through the same `SessionAPI`: the in-process runtime and the Restate session
 * client (a real restate-server on loopback). Each says so the same way: `get` and `list` show the
 * session `failed` with `COMPACTION_NO_PROGRESS` (the parts' counts and what to do), one
 * `session.compaction.failed` event of the same shape reaches `onEvent`, and a smaller part lifts it.
 * Before, on Restate, `get` and `list` said nothing was wrong and no event was published. The
 * same for parts that only reach the threshold with the reply's room (`thresholdOutOfReach`),
 * whose requests are still built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { createCompactionWorkflow } from '../../src/restate/compaction-workflow.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { sessionEvents, sessionEventsWait } from '../../src/restate/event-feed.js';
import { createRestateSessionClient } from '../../src/restate/session-client.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { createSessionRuntime, type SessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { createMemorySessionStore } from '../../src/store/memory-session-store.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
const closers: (() => Promise<void>)[] = [];
const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'hopeless' };
const LIMITS = { maxTokens: 20_000 };
const words = (tokens: number) => 'word '.repeat(tokens);
/** Parts that pass `maxTokens` 20,000 alone: no request can be built (`noCompactionCanHelp`). */
const PARTS = {
  agentDescription: { role: 'dev', instructions: words(15_000) },
  context: { projectNotes: words(15_000) },
};
/**
 * Parts of about 17,400 tokens: with the reply's room (1,000) they reach the threshold (18,000)
 * and fit `maxTokens` (`thresholdOutOfReach`): requests are still built, no compaction started.
 */
const NEAR_PARTS = {
  agentDescription: { role: 'dev', instructions: words(8_700) },
  context: { projectNotes: words(8_700) },
};

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({
    services: [
      sessionObject,
      sessionDirectory,
      createCompactionWorkflow({ compactor: () => new OfflineCompactor() }),
      sessionEvents,
      sessionEventsWait,
    ],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await endpoint?.close();
});

/** The `SessionAPI` of an in-process runtime, as a host over IPC sees it. */
function apiOf(runtime: SessionRuntime): SessionAPI {
  const handlers = createSessionHandlers(runtime);
  return createSessionApiFromInvoke(
    (channel, ...args) => (handlers[channel] as (...a: unknown[]) => Promise<unknown>)(...args),
    (deliver) => runtime.subscribe(deliver),
  );
}

/** The two runtimes: `wide` with the default limits (the parts fit), `narrow` with {@link LIMITS}. */
interface Runtimes {
  wide(): Promise<SessionAPI>;
  narrow(): Promise<SessionAPI & { connected(): Promise<void> }>;
}

const inProcess = (): Runtimes => {
  const store = createMemorySessionStore();
  const open = async (limits?: typeof LIMITS) => {
    const runtime = await createSessionRuntime({ store, ...(limits ? { limits } : {}) });
    closers.push(() => runtime.close());
    return Object.assign(apiOf(runtime), { connected: async () => undefined, close: () => runtime.close() });
  };
  return { wide: () => open(), narrow: () => open(LIMITS) };
};

const onRestate = (): Runtimes => {
  const open = async (limits?: typeof LIMITS) => {
    const client = await createRestateSessionClient({
      ingressUrl: server.ingressUrl,
      namespace: 'hopeless',
      ...(limits ? { limits } : {}),
    });
    closers.push(() => client.close());
    return Object.assign(client, { connected: () => client.eventsConnected() });
  };
  return { wide: () => open(), narrow: () => open(LIMITS) };
};

/** What a host sees of the scenario: the session's state and error, the events, the lift. */
async function scenario(runtimes: Runtimes, parts = PARTS, key = KEY) {
  const wide = await runtimes.wide();
  const { id } = await wide.create(key, parts);
  await wide.addMessage(id, { role: 'user', content: 'Keep me' });
  const narrow = await runtimes.narrow();
  const events: SessionEvent[] = [];
  const waiting = new Set<() => void>();
  narrow.onEvent((event) => {
    events.push(event);
    for (const check of waiting) check();
  });
  /** Resolves once the event of the message `messageId` was delivered (with what came before it). */
  const appended = (messageId: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!events.some((e) => e.type === 'session.message.appended' && e.message.id === messageId)) return;
        waiting.delete(check);
        resolve();
      };
      waiting.add(check);
      check();
    });
  await narrow.connected();
  const info = await narrow.get(id);
  const listed = (await narrow.list()).find((s) => s.id === id)!;
  // In process, loading it fails it; on Restate, the first append at the threshold tells the feed.
  // The second tells it nothing more: the feed delivers an append's events together, in order.
  for (let i = 0; i < 2; i++) {
    const message = await narrow.addMessage(id, { role: 'user', content: words(3_000) });
    await appended(message.id);
  }
  const failures = events.filter((e) => e.type === 'session.compaction.failed');
  const built = await narrow.buildRequest(id, 'Go on').then(
    (request) => (request.compactionError === null ? null : 'built, with compactionError'),
    (error: { code?: string }) => error.code,
  );
  // A smaller context: the description and context leave room, the session fails no more (in
  // process the compaction it starts then ends, which buildRequest waits for).
  await narrow.setContext(id, { projectNotes: words(1_000) });
  const afterward = await narrow.buildRequest(id, 'Go on');
  const lifted = await narrow.get(id);
  return {
    info: { state: info.state, error: info.error },
    listed: { state: listed.state, error: listed.error },
    failures,
    built,
    lifted: { state: lifted.state, error: lifted.error },
    fits: afterward.fits,
  };
}

describe('a session no compaction can help', () => {
  it('is failed with COMPACTION_NO_PROGRESS and told on the feed, on Restate as in process', async () => {
    const local = await scenario(inProcess());
    const restate = await scenario(onRestate());

    // In process (the reference): failed, why, and one event.
    const why = /take \d+ tokens of every request.*pass maxTokens 20000: no compaction can help/;
    expect(local.info.state).toBe('failed');
    expect(local.info.error).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    expect(local.info.error?.message).toMatch(why);
    expect(local.built).toBe('REQUEST_TOO_LARGE');
    expect(local.failures).toHaveLength(1);

    // On Restate the same (before: `get` said idle and `list` closed, no error, and no event).
    const withoutTime = ({ at: _at, ...event }: SessionEvent) => event;
    expect.soft(restate.info).toEqual(local.info);
    expect.soft(restate.listed).toEqual(local.listed);
    expect.soft(restate.failures.map(withoutTime)).toEqual(local.failures.map(withoutTime));
    expect.soft(restate.built).toBe('REQUEST_TOO_LARGE');
    // A smaller part lifts it, in both.
    expect(local.lifted).toEqual({ state: 'idle', error: null });
    expect.soft(restate.lifted).toEqual(local.lifted);
    expect(local.fits).toBe(true);
    expect.soft(restate.fits).toBe(true);
  });

  it('whose parts reach the threshold and fit maxTokens is failed alike, its requests still built', async () => {
    // A session of its own (the Restate namespace is the first test's too).
    const key: SessionKey = { ...KEY, featureId: 'near-limit' };
    const local = await scenario(inProcess(), NEAR_PARTS, key);
    const restate = await scenario(onRestate(), NEAR_PARTS, key);

    const why = /reach the compaction threshold 18000: no compaction can bring a request under it/;
    expect(local.info.state).toBe('failed');
    expect(local.info.error).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    expect(local.info.error?.message).toMatch(why);
    expect(local.built).toBe('built, with compactionError');
    expect(local.failures).toHaveLength(1);

    const withoutTime = ({ at: _at, ...event }: SessionEvent) => event;
    expect.soft(restate.info).toEqual(local.info);
    expect.soft(restate.listed).toEqual(local.listed);
    expect.soft(restate.failures.map(withoutTime)).toEqual(local.failures.map(withoutTime));
    expect.soft(restate.built).toBe(local.built);
    expect(local.lifted).toEqual({ state: 'idle', error: null });
    expect.soft(restate.lifted).toEqual(local.lifted);
    expect(local.fits).toBe(true);
    expect.soft(restate.fits).toBe(true);
  });
});
