/**
 * The compaction workflow against a real restate-server, the endpoint in this process: the
 * compaction properties on generated conversations (every message once, in order; no tool pair
 * split; the next request under the limit), a commit of the same compaction id twice changing
 * nothing, and appends made while a compaction folds surviving its commit.
 */
import { randomUUID } from 'node:crypto';
import * as clients from '@restatedev/restate-sdk-clients';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompactOptions, CompactionInput, Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { toolResultIds, toolUseIds } from '../../src/core/plan-compaction.js';
import type { ContentBlock, Message, SessionRecord } from '../../src/core/types.js';
import { buildRequest } from '../../src/request/build-request.js';
import { createCompactionWorkflow, type CompactionResult } from '../../src/restate/compaction-workflow.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { sessionDirectory, sessionObject } from '../../src/restate/session-object.js';
import { defaultLimits } from '../../src/runtime/limits.js';
import type { SessionStore } from '../../src/store/contract.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { useRestateServer } from '../support/restate-server.js';

const estimator = createTokenEstimator();
const LIMITS = { ...defaultLimits(6_000) };

/** Holds every compactor call until the test opens the gate; counts calls. */
const gate = {
  closed: null as Promise<void> | null,
  open: () => undefined as void,
  entered: 0,
  calls: 0,
};
class GatedCompactor implements Compactor {
  readonly name = 'gated-offline';
  readonly maxInputTokens = 4_000;
  readonly #inner = new OfflineCompactor();
  async compact(input: CompactionInput, options: CompactOptions) {
    gate.entered++;
    if (gate.closed) await gate.closed;
    gate.calls++;
    return this.#inner.compact(input, options);
  }
}
function closeGate(): void {
  gate.closed = new Promise<void>((resolve) => {
    gate.open = () => {
      gate.closed = null;
      resolve();
    };
  });
}

const workflow = createCompactionWorkflow({
  compactor: () => new GatedCompactor(),
  estimator: () => estimator,
});
const server = useRestateServer();
let endpoint: RestateEndpointServer;
let store: SessionStore;
let ingress: clients.Ingress;
const NAMESPACE = 'wf';

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({
    services: [sessionObject, sessionDirectory, workflow],
    logger: () => undefined,
  });
  await server.register(endpoint.url);
  store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: NAMESPACE });
  ingress = clients.connect({ url: server.ingressUrl });
});

afterAll(async () => {
  await endpoint?.close();
});

function record(id: string): SessionRecord {
  const now = new Date(Date.UTC(2026, 0, 1)).toISOString();
  return {
    id,
    key: { type: 'feature', agentType: 'dev', featureId: id.split('--')[1]! },
    createdAt: now,
    updatedAt: now,
    status: 'active',
    schemaVersion: 1,
  } as SessionRecord;
}

let sessions = 0;
async function newSession(): Promise<string> {
  const id = `feature--wf${++sessions}${randomUUID().slice(0, 6)}--dev`;
  await store.create(record(id));
  return id;
}

function message(seq: number, role: 'user' | 'assistant', content: string | ContentBlock[]): Message {
  return {
    id: `m-${seq}`,
    seq,
    role,
    content,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: estimator.estimateMessage({ role, content }),
  };
}

const text = fc
  .tuple(
    fc.constantFrom('edit src/a.ts', 'npm test passed', 'decided: keep it', 'données 测试 🙂'),
    fc.integer({ min: 1, max: 80 }),
  )
  .map(([w, n]) => Array.from({ length: n }, () => w).join('\n'));
const turn = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), text }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tool' as const), output: text }) },
);

/** A conversation: text turns alternate, tool calls answered by the next (user) message. */
function conversation(turns: { kind: 'text' | 'tool'; text?: string; output?: string }[]): Message[] {
  const messages: Message[] = [];
  for (const t of turns) {
    const seq = messages.length;
    if (t.kind === 'text') messages.push(message(seq, seq % 2 === 0 ? 'user' : 'assistant', t.text!));
    else {
      const id = `toolu_01${String(seq).padStart(22, '0')}`;
      messages.push(
        message(seq, 'assistant', [{ type: 'tool_use', id, name: 'bash', input: { command: 'npm test' } }]),
      );
      messages.push(
        message(seq + 1, 'user', [
          { type: 'tool_result', tool_use_id: id, content: t.output! },
        ] as ContentBlock[]),
      );
    }
  }
  return messages;
}

async function compact(session: string, compactionId: string = randomUUID()): Promise<CompactionResult> {
  const flow = ingress.workflowClient(workflow, `${NAMESPACE}/${session}:${compactionId}`);
  await flow.workflowSubmit({ session: `${NAMESPACE}/${session}`, compactionId, limits: LIMITS });
  return flow.workflowAttach();
}

async function everything(id: string): Promise<Message[]> {
  const head = await store.load(id);
  return [...(await store.readArchive(id)).messages, ...head.messages];
}

describe('the compaction workflow', () => {
  it('loses no message, keeps order, splits no tool pair, leaves the request under the limit', async () => {
    let folded = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(turn, { minLength: 8, maxLength: 40 }), async (turns) => {
        const id = await newSession();
        const messages = conversation(turns);
        await store.append(id, messages);
        const result = await compact(id);
        if (result.messagesCompacted > 0) folded++;
        const all = await everything(id);
        // Every message exactly once, in order, verbatim.
        expect(all).toEqual(messages);
        const head = await store.load(id);
        // No tool pair split: no call in the archive whose result is live.
        const live = new Set(head.messages.flatMap((m) => toolResultIds(m)));
        const archive = (await store.readArchive(id)).messages;
        expect(archive.flatMap((m) => toolUseIds(m)).filter((u) => live.has(u))).toEqual([]);
        expect(head.archivedThroughSeq).toBe(result.committed ? result.archivedThroughSeq : -1);
        // The next request fits.
        const request = buildRequest({
          agentDescription: null,
          context: null,
          checkpoint: head.checkpoint,
          messages: head.messages,
          userMessage: 'next',
          format: 'messages',
          limits: LIMITS,
          estimator,
        });
        expect(request.fits).toBe(true);
        expect(request.omittedMessages).toBe(0);
        expect(request.breakdown.total).toBeLessThanOrEqual(LIMITS.maxTokens);
      }),
      { numRuns: 6 },
    );
    // The property is about compactions that happened: most generated sessions are over the threshold.
    expect(folded).toBeGreaterThan(0);
  });

  it('commits once per compaction id: the same commit again returns the first result and changes nothing', async () => {
    const id = await newSession();
    const messages = conversation(
      Array.from({ length: 30 }, () => ({ kind: 'text' as const, text: 'long '.repeat(200) })),
    );
    await store.append(id, messages);
    const result = await compact(id, 'c-1');
    expect(result.committed).toBe(true);
    const after = await store.load(id);
    const versions = await store.checkpointVersions(id);
    // The object's commit, called again with the id and a different checkpoint, answers the first result.
    const again = (await ingress.objectClient(sessionObject, `${NAMESPACE}/${id}`).commit({
      commitId: 'c-1',
      segment: null,
      checkpoint: { ...after.checkpoint!, version: after.checkpoint!.version + 5 },
    })) as { ok: boolean; value?: { checkpoint: { version: number } } };
    expect(again.ok && again.value?.checkpoint.version).toBe(after.checkpoint!.version);
    expect(await store.load(id)).toEqual(after);
    expect(await store.checkpointVersions(id)).toEqual(versions);
    // The workflow with that id runs once: a second submission is not run again.
    const flow = ingress.workflowClient(workflow, `${NAMESPACE}/${id}:c-1`);
    const second = await flow
      .workflowSubmit({ session: `${NAMESPACE}/${id}`, compactionId: 'c-1', limits: LIMITS })
      .then((s) => s.status);
    expect(second).toBe('PreviouslyAccepted');
    expect(await everything(id)).toEqual(messages);
  });

  it('keeps the appends made while it folds: they are live after its commit', async () => {
    const id = await newSession();
    const before = conversation(
      Array.from({ length: 30 }, () => ({ kind: 'text' as const, text: 'word '.repeat(200) })),
    );
    await store.append(id, before);
    closeGate();
    const entered = gate.entered;
    const running = compact(id);
    // Wait on the compactor having been entered (state, not the clock).
    while (gate.entered === entered) await new Promise((resolve) => setImmediate(resolve));
    const during = [60, 61, 62].map((seq) =>
      message(seq - 30, seq % 2 === 0 ? 'user' : 'assistant', `during ${seq}`),
    );
    await store.append(id, during);
    gate.open();
    const result = await running;
    expect(result.committed).toBe(true);
    const head = await store.load(id);
    expect(head.archivedThroughSeq).toBeLessThan(30);
    expect(head.messages.slice(-3)).toEqual(during);
    expect(await everything(id)).toEqual([...before, ...during]);
  });
});
