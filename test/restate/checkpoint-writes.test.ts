/**
 * Checkpoint edits, decisions, clears and resets are exclusive writes of the `session` object
 * (`changeCheckpoint`), against a real restate-server (one for this file), the services in this
 * process with a compactor the test can hold: two clients changing one session at once both
 * succeed, one after the other; a change made while the object's compaction runs waits for its
 * commit (neither is refused); a clear racing appends loses no message and is never refused; a
 * repeated call of one change changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { Message } from '../../src/core/types.js';
import type { CheckpointChangeAnswer, CheckpointChangeCall } from '../../src/restate/checkpoint-writes.js';
import { createCompactionWorkflow } from '../../src/restate/compaction-workflow.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { sessionEvents, sessionEventsWait } from '../../src/restate/event-feed.js';
import {
  createRestateSessionStore,
  type RestateSessionStore,
} from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { defaultLimits, resolveLimits } from '../../src/runtime/limits.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let one: RestateSessionClient;
let two: RestateSessionClient;
let store: RestateSessionStore;
const LIMITS = { maxTokens: 2_500, keepRecentTokens: 400, replyReserveTokens: 200 };

/** A gate in front of the offline compactor: `hold()` stops the next calls until `release()`. */
const gate = {
  held: null as null | { release: () => void; opened: Promise<void> },
  entered: [] as (() => void)[],
  hold() {
    let release!: () => void;
    const opened = new Promise<void>((resolve) => (release = resolve));
    this.held = { release, opened };
  },
  release() {
    this.held?.release();
    this.held = null;
  },
  /** Resolves when a compactor call enters while held. */
  nextEntry() {
    return new Promise<void>((resolve) => this.entered.push(resolve));
  },
};
const offline = new OfflineCompactor();
const gated: Compactor = {
  name: offline.name,
  maxInputTokens: offline.maxInputTokens,
  async compact(input, options) {
    const held = gate.held;
    for (const entered of gate.entered.splice(0)) entered();
    if (held) await held.opened;
    return offline.compact(input, options);
  },
};

beforeAll(async () => {
  const services = [
    sessionObject,
    sessionDirectory,
    createCompactionWorkflow({ compactor: () => gated }),
    sessionEvents,
    sessionEventsWait,
  ];
  endpoint = await serveRestateEndpoint({ services, logger: () => undefined });
  await server.register(endpoint.url);
  const options = { ingressUrl: server.ingressUrl, namespace: 'c', limits: LIMITS };
  one = await createRestateSessionClient(options);
  two = await createRestateSessionClient(options);
  store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'c' });
});

afterAll(async () => {
  gate.release();
  await one?.close();
  await two?.close();
  await store?.close();
  await endpoint?.close();
});

const text = (who: string, i: number) => `${who} ${i}: ${'the quick brown fox jumps '.repeat(10)}`;

describe('the session object changes the checkpoint', () => {
  it('takes a decision and an edit made while its compaction runs after the commit: none refused', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'held' });
    for (let i = 0; i < 8; i++) await one.addMessage(info.id, { role: 'user', content: text('h', i) });
    gate.hold();
    const entered = gate.nextEntry();
    const compacting = one.compact(info.id, { keepRecentTokens: 100 });
    await entered;
    const decided = two.recordDecision(info.id, { kind: 'review', subject: 'parser', approved: true });
    const edited = two.editCheckpoint(info.id, { summary: { pending: ['write the exporter'] } });
    await store.load(info.id); // a round trip: the two changes are on their way before the release
    gate.release();
    const [compacted, decision, edit] = await Promise.all([compacting, decided, edited]);
    expect(compacted.kind).toBe('compacted');
    // The compaction committed first; the changes came after it, each on the checkpoint before it.
    expect(compacted.checkpointVersion).toBe(1);
    expect([decision.version, edit.version].sort()).toEqual([2, 3]);
    const checkpoint = (await one.getCheckpoint(info.id))!;
    expect(checkpoint.version).toBe(3);
    expect(checkpoint.summary.pending).toEqual(['write the exporter']);
    expect(checkpoint.ledger?.decisions?.map((d) => d.key)).toEqual(['review:parser']);
    expect(checkpoint.compactionInfo.archivedMessages).toBeGreaterThan(0);
    expect(await one.getCheckpointVersions(info.id)).toEqual([1, 2, 3]);
    expect((await one.getHistory(info.id)).length).toBe(8);
  });

  it('records the decisions of two clients at once: every one kept, in one version each', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'decisions' });
    await one.addMessage(info.id, { role: 'user', content: text('d', 0) });
    for (let i = 0; i < 5; i++) {
      await Promise.all([
        one.recordDecision(info.id, { kind: 'decision', subject: `one-${i}`, text: 'keep it' }),
        two.recordDecision(info.id, { kind: 'review', subject: `two-${i}`, approved: i % 2 === 0 }),
      ]);
    }
    const checkpoint = (await two.getCheckpoint(info.id))!;
    expect(checkpoint.version).toBe(10);
    expect(checkpoint.ledger?.decisions?.map((d) => d.subject).sort()).toEqual(
      Array.from({ length: 5 }, (_, i) => [`one-${i}`, `two-${i}`])
        .flat()
        .sort(),
    );
  });

  it('clears and resets while another client appends past the threshold: none refused, nothing lost', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'clears' });
    const acknowledged: Message[] = [];
    const changes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      acknowledged.push(await one.addMessage(info.id, { role: 'user', content: text('c', i) }));
      // Beside the appends that follow, while the object's threshold compactions run.
      if (i % 8 === 7) changes.push(two.clearMessages(info.id));
      if (i % 8 === 3) changes.push(two.reset(info.id));
    }
    const results = (await Promise.all(changes)) as { archivedMessages: number; checkpointVersion: number }[];
    expect(results.length).toBe(7);
    await one.compact(info.id).catch(() => undefined); // waits for the last compaction, if any
    const history = await two.getHistory(info.id);
    expect(history.map((m) => m.id)).toEqual(acknowledged.map((m) => m.id));
    expect(history.map((m) => m.content)).toEqual(acknowledged.map((m) => m.content));
    const versions = await one.getCheckpointVersions(info.id);
    for (const r of results) expect(versions).toContain(r.checkpointVersion);
    // Every live message was archived by a change or a compaction, or is live still: none twice.
    const live = await two.getMessages(info.id);
    const archived = results.reduce((sum, r) => sum + r.archivedMessages, 0);
    expect(archived).toBeLessThanOrEqual(acknowledged.length - live.length);
  });

  it('answers a repeated change with the first result and writes nothing', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'repeat' });
    for (let i = 0; i < 4; i++) await one.addMessage(info.id, { role: 'user', content: text('r', i) });
    const call: CheckpointChangeCall = {
      changeId: 'clear-once',
      mode: 'clear',
      change: {
        decisions: [{ kind: 'decision', subject: 'once', text: 'only once' }],
        at: new Date(0).toISOString(),
      },
      at: new Date(0).toISOString(),
      limits: resolveLimits(LIMITS, defaultLimits()),
      feed: null,
      origin: 'test',
    };
    const first = await store.write<CheckpointChangeAnswer>(info.id, 'changeCheckpoint', call);
    expect(first).toMatchObject({
      kind: 'done',
      result: { archivedMessages: 4, segment: 1, checkpointVersion: 1 },
    });
    const late = await one.addMessage(info.id, { role: 'user', content: 'after the clear' });
    const again = await store.write<CheckpointChangeAnswer>(info.id, 'changeCheckpoint', call);
    expect(again).toEqual(first);
    // The message appended after the first call stays live; no second version, no second segment.
    expect((await one.getMessages(info.id)).map((m) => m.id)).toEqual([late.id]);
    expect(await one.getCheckpointVersions(info.id)).toEqual([1]);
    expect((await one.getHistory(info.id)).length).toBe(5);
  });

  it('refuses an edit past the budget, and every change of an archived session', async () => {
    const info = await one.create({ type: 'feature', agentType: 'dev', featureId: 'refused' });
    await one.addMessage(info.id, { role: 'user', content: text('x', 0) });
    const long = Array.from({ length: 400 }, (_, i) => `item ${i}: ${'words '.repeat(20)}`);
    await expect(one.editCheckpoint(info.id, { summary: { pending: long } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await one.getCheckpointVersions(info.id)).toEqual([]);
    await two.archive(info.id);
    for (const change of [
      () => one.editCheckpoint(info.id, { summary: { pending: ['late'] } }),
      () => one.recordDecision(info.id, { kind: 'decision', subject: 'late', text: 'late' }),
      () => one.clearMessages(info.id),
      () => one.reset(info.id),
    ])
      await expect(change()).rejects.toMatchObject({ code: 'SESSION_ARCHIVED' });
    expect((await one.getMessages(info.id)).length).toBe(1);
  });
});
