/**
 * Sessions on Restate under SIGKILL, against a real restate-server (one for this file) and the
 * session services in a child endpoint: the service killed while a compaction's model step runs,
 * the service killed while appends are in flight, and the server killed and restarted on its data
 * directory during appends and a compaction. Each ends with the count: every acknowledged message
 * present exactly once, nothing duplicated, and the compaction committed once (one checkpoint
 * version, one segment).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as clients from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompactionResult } from '../../src/restate/compaction-workflow.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import type { SessionStore } from '../../src/store/contract.js';
import { startChildEndpoint, useRestateServer, type ChildEndpoint } from '../support/restate-server.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import type { TurnResult } from '../../src/restate/turn-service.js';
import type { compaction, turn } from './fixtures/session-endpoint.js';
import { recordOf, sessionId, tally, textMessage } from './fixtures/sessions.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'session-endpoint.ts');
const WORKFLOW = { name: 'compaction' } as typeof compaction;
const TURN = { name: 'sessionTurn' } as typeof turn;
const LIMITS = {
  maxTokens: 4_000,
  compactAt: 0.9,
  keepRecentTokens: 600,
  replyReserveTokens: 200,
  checkpointTokens: 1_000,
};

const restate = useRestateServer();
let endpoint: ChildEndpoint;
let store: SessionStore;
let ingress: clients.Ingress;
let client: RestateSessionClient;

beforeAll(async () => {
  endpoint = await startChildEndpoint({ module: FIXTURE });
  await restate.register(endpoint.url);
  store = createRestateSessionStore({ ingressUrl: restate.ingressUrl });
  ingress = clients.connect({ url: restate.ingressUrl });
  client = await createRestateSessionClient({
    ingressUrl: restate.ingressUrl,
    limits: LIMITS,
    publishEvents: false,
  });
});

afterAll(async () => {
  await client?.close();
  await endpoint?.stop();
});

/** Resolves once a compactor call has entered the gate in the child with `pid`. */
function entered(pid: number | undefined, after: number) {
  return endpoint.waitForMessage(
    (m) =>
      m.type === 'chunk' && m.phase === 'entered' && m.pid === pid && endpoint.messages.indexOf(m) >= after,
  );
}

async function hold(): Promise<void> {
  const before = endpoint.messages.length;
  endpoint.send({ type: 'hold' });
  await endpoint.waitForMessage((m) => m.type === 'holding' && endpoint.messages.indexOf(m) >= before);
}

async function newSession(tag: string, messages: number): Promise<{ id: string; acknowledged: number[] }> {
  const id = sessionId(tag);
  await store.create(recordOf(id));
  const batch = Array.from({ length: messages }, (_, seq) => textMessage(seq, 60));
  await store.append(id, batch);
  return { id, acknowledged: batch.map((m) => m.seq) };
}

/** Appends one message at a time to each session, recording what was acknowledged, until `stop()`. */
function appendLoop(sessions: { id: string; acknowledged: number[] }[]) {
  let stopped = false;
  let errors = 0;
  const loops = sessions.map(async (s) => {
    let seq = s.acknowledged[s.acknowledged.length - 1]! + 1;
    while (!stopped) {
      try {
        await store.append(s.id, [textMessage(seq, 20)]);
        s.acknowledged.push(seq);
        seq++;
      } catch {
        // Not acknowledged: it may or may not be there, but never twice (checked by the tally).
        errors++;
        const head = await store.load(s.id).catch(() => null);
        if (head !== null) seq = head.lastSeq + 1;
      }
    }
  });
  return {
    acknowledged: () => sessions.reduce((n, s) => n + s.acknowledged.length, 0),
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return errors;
    },
  };
}

async function untilAcknowledged(count: () => number, more: number): Promise<void> {
  const target = count() + more;
  while (count() < target) await new Promise((resolve) => setTimeout(resolve, 5));
}

function submit(id: string, compactionId: string) {
  const flow = ingress.workflowClient(WORKFLOW, `${id}:${compactionId}`);
  return {
    submitted: flow.workflowSubmit({ session: id, compactionId, limits: LIMITS }),
    result: (): Promise<CompactionResult> => flow.workflowAttach(),
  };
}

/** How often each model step (by its input's hash) entered and passed the gate since `mark`. */
function stepRuns(mark: number): { entered: Map<string, number>; passed: Map<string, number> } {
  const entered = new Map<string, number>();
  const passed = new Map<string, number>();
  for (const m of endpoint.messages.slice(mark)) {
    if (m.type !== 'chunk') continue;
    const counts = m.phase === 'entered' ? entered : passed;
    counts.set(m.chunk as string, (counts.get(m.chunk as string) ?? 0) + 1);
  }
  return { entered, passed };
}

async function committedOnce(id: string): Promise<{ versions: number[]; segments: number }> {
  const versions = await store.checkpointVersions(id);
  let segments = 0;
  while ((await store.readSegment(id, segments + 1)) !== null) segments++;
  return { versions, segments };
}

describe('sessions on Restate under SIGKILL', () => {
  it('the service killed during a compaction: the model step runs again, the commit happens once', async () => {
    const session = await newSession('killwf', 40);
    await hold();
    const firstPid = endpoint.pid;
    const mark = endpoint.messages.length;
    const run = submit(session.id, 'c1');
    await run.submitted;
    await entered(firstPid, mark);
    // Appends go on while the compaction holds its step.
    const loop = appendLoop([session]);
    await untilAcknowledged(loop.acknowledged, 5);
    await endpoint.kill();
    await endpoint.restart({ DAGENT_HOLD: '0' });
    await untilAcknowledged(loop.acknowledged, 5);
    const result = await run.result();
    await loop.stop();

    expect(result.committed).toBe(true);
    expect(result.messagesCompacted).toBeGreaterThan(0);
    const steps = endpoint.messages.filter((m) => m.type === 'chunk' && endpoint.messages.indexOf(m) >= mark);
    const counts = await tally(store, session.id, session.acknowledged);
    const commits = await committedOnce(session.id);
    console.log(
      `service SIGKILL during a compaction: steps entered ${steps.filter((m) => m.phase === 'entered').length}, ` +
        `passed ${steps.filter((m) => m.phase === 'passed').length}; ${JSON.stringify(counts)}; ` +
        `checkpoint versions ${commits.versions.join(',')}, segments ${commits.segments}`,
    );
    // The step entered in the killed child (held, never passed), and again in the new one.
    expect(steps.some((m) => m.pid === firstPid && m.phase === 'entered')).toBe(true);
    expect(steps.some((m) => m.pid === firstPid && m.phase === 'passed')).toBe(false);
    expect(steps.some((m) => m.pid === endpoint.pid && m.phase === 'passed')).toBe(true);
    for (const [chunk, n] of stepRuns(mark).entered) expect(n, chunk).toBeLessThanOrEqual(2);
    expect(counts).toMatchObject({ missing: 0, duplicates: 0 });
    expect(counts.present).toBeGreaterThanOrEqual(counts.acknowledged);
    expect(commits).toEqual({ versions: [1], segments: 1 });
  });

  it('the service killed while appends are in flight: every acknowledged message once', async () => {
    const sessions = await Promise.all([1, 2, 3, 4].map((n) => newSession(`killap${n}`, 3)));
    const loop = appendLoop(sessions);
    await untilAcknowledged(loop.acknowledged, 20);
    await endpoint.kill();
    await endpoint.restart({ DAGENT_HOLD: '0' });
    await untilAcknowledged(loop.acknowledged, 20);
    const errors = await loop.stop();
    const counts = await Promise.all(sessions.map((s) => tally(store, s.id, s.acknowledged)));
    const total = counts.reduce(
      (t, c) => ({
        acknowledged: t.acknowledged + c.acknowledged,
        present: t.present + c.present,
        duplicates: t.duplicates + c.duplicates,
        missing: t.missing + c.missing,
      }),
      { acknowledged: 0, present: 0, duplicates: 0, missing: 0 },
    );
    console.log(
      `service SIGKILL during appends (4 sessions): ${JSON.stringify(total)}, failed calls ${errors}`,
    );
    expect(total).toMatchObject({ missing: 0, duplicates: 0 });
    expect(total.present).toBeGreaterThanOrEqual(total.acknowledged);
  });

  it('the server killed and restarted during appends and a compaction: nothing lost, committed once', async () => {
    const session = await newSession('killsrv', 40);
    const others = await Promise.all([1, 2].map((n) => newSession(`killsrv${n}`, 3)));
    await hold();
    const pid = endpoint.pid;
    const mark = endpoint.messages.length;
    const run = submit(session.id, 'c1');
    await run.submitted;
    await entered(pid, mark);
    const loop = appendLoop([session, ...others]);
    await untilAcknowledged(loop.acknowledged, 10);
    await restate.killAndRestart();
    endpoint.send({ type: 'open' });
    await untilAcknowledged(loop.acknowledged, 10);
    const result = await run.result();
    const errors = await loop.stop();

    expect(result.committed).toBe(true);
    const counts = await Promise.all([session, ...others].map((s) => tally(store, s.id, s.acknowledged)));
    const commits = await committedOnce(session.id);
    const runs = stepRuns(mark);
    console.log(
      `server SIGKILL + restart: ${JSON.stringify(counts)}, failed calls ${errors}; ` +
        `checkpoint versions ${commits.versions.join(',')}, segments ${commits.segments}; ` +
        `model steps entered per step ${JSON.stringify([...runs.entered.values()])}, ` +
        `passed ${JSON.stringify([...runs.passed.values()])}`,
    );
    // Each model step ran at most twice (the call the kill cut, and its retry), at least once through.
    expect(runs.entered.size).toBeGreaterThan(0);
    for (const [chunk, n] of runs.entered) {
      expect(n, chunk).toBeLessThanOrEqual(2);
      expect(runs.passed.get(chunk) ?? 0, chunk).toBeGreaterThanOrEqual(1);
    }
    for (const c of counts) {
      expect(c).toMatchObject({ missing: 0, duplicates: 0 });
      expect(c.present).toBeGreaterThanOrEqual(c.acknowledged);
    }
    expect(commits).toEqual({ versions: [1], segments: 1 });
  });

  it('the service killed during the model step of a turn: the model once through, each message once', async () => {
    const session = await newSession('killturn', 2);
    await hold();
    const firstPid = endpoint.pid;
    const mark = endpoint.messages.length;
    const sent = ingress
      .objectClient(TURN, session.id)
      .send({ content: 'What next?', limits: LIMITS }) as Promise<TurnResult>;
    await endpoint.waitForMessage(
      (m) =>
        m.type === 'model' &&
        m.phase === 'entered' &&
        m.pid === firstPid &&
        endpoint.messages.indexOf(m) >= mark,
    );
    await endpoint.kill();
    await endpoint.restart({ DAGENT_HOLD: '0' });
    const result = await sent;

    const head = await store.load(session.id);
    const model = endpoint.messages.slice(mark).filter((m) => m.type === 'model');
    console.log(
      `service SIGKILL during a turn's model step: ` +
        `model entered ${model.filter((m) => m.phase === 'entered').length}, ` +
        `passed ${model.filter((m) => m.phase === 'passed').length}; messages ${head.messages.length}`,
    );
    expect(head.messages.map((m) => [m.seq, m.role])).toEqual([
      [0, 'user'],
      [1, 'assistant'],
      [2, 'user'],
      [3, 'assistant'],
    ]);
    expect(head.messages[2]!.content).toBe('What next?');
    expect(head.messages[3]).toEqual(result.reply);
    // Entered in the killed child (held, never passed) and again in the new one, passed once.
    expect(model.filter((m) => m.phase === 'entered').map((m) => m.pid)).toEqual([firstPid, endpoint.pid]);
    expect(model.filter((m) => m.phase === 'passed').map((m) => m.pid)).toEqual([endpoint.pid]);
  });

  it('the service killed while a clear waits for a compaction: each commits once, in order, nothing lost', async () => {
    const session = await newSession('killclear', 40);
    await hold();
    const firstPid = endpoint.pid;
    const mark = endpoint.messages.length;
    const compacting = client.compact(session.id);
    await entered(firstPid, mark);
    const clearing = client.clearMessages(session.id);
    const loop = appendLoop([session]);
    await untilAcknowledged(loop.acknowledged, 5);
    await endpoint.kill();
    await endpoint.restart({ DAGENT_HOLD: '0' });
    await untilAcknowledged(loop.acknowledged, 5);
    const [compacted, cleared] = await Promise.all([compacting, clearing]);
    await loop.stop();

    const counts = await tally(store, session.id, session.acknowledged);
    const commits = await committedOnce(session.id);
    console.log(
      `service SIGKILL while a clear waits for a compaction: ${JSON.stringify(counts)}; ` +
        `checkpoint versions ${commits.versions.join(',')}, segments ${commits.segments}; ` +
        `compaction version ${compacted.checkpointVersion}, clear version ${cleared.checkpointVersion} ` +
        `archiving ${cleared.archivedMessages}`,
    );
    expect(compacted.kind).toBe('compacted');
    expect([compacted.checkpointVersion, cleared.checkpointVersion]).toEqual([1, 2]);
    expect(cleared.archivedMessages).toBeGreaterThan(0);
    expect(commits).toEqual({ versions: [1, 2], segments: 2 });
    expect(counts).toMatchObject({ missing: 0, duplicates: 0 });
    expect(counts.present).toBeGreaterThanOrEqual(counts.acknowledged);
  });
});
