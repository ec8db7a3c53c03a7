/**
 * Issue 14's figures (`npm run bench -- restate`): `addMessage` through Restate (the SessionAPI
 * client, whose appends are one call of the `session` object's exclusive handler; a real
 * restate-server from node_modules on loopback, the endpoint in a child process) against the
 * runtime in-process on the JSON-file store (fsync per append), one session and 50 at once, in one
 * run; beside them the earlier write path (the project's runtime in this process on the Restate
 * session store); the store layer alone (one `append` call) on both; and a 50 MB session on
 * Restate: an append, a page of its archive, a load; and `list` of the sessions the appends made.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { emptyCheckpoint } from '../../src/compaction/run-clear.js';
import type { Checkpoint, Message } from '../../src/core/types.js';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import * as clients from '@restatedev/restate-sdk-clients';
import { counterObject } from '../../src/restate/counter-object.js';
import { sessionEvents } from '../../src/restate/event-feed.js';
import { freeLoopbackPorts } from '../../src/restate/loopback-ports.js';
import { registerDeployment } from '../../src/restate/admin-api.js';
import { startLocalRestateServer } from '../../src/restate/local-server.js';
import { createRestateSessionStore } from '../../src/restate/restate-session-store.js';
import { createRestateSessionClient } from '../../src/restate/session-client.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionStore } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { keyOf, percentile, recordOf, storedMessage } from './lean-core-shared.js';
import type { BenchTable } from './run.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.resolve(HERE, '../support/restate-endpoint-child.ts');
const ONE = 300;
const WARMUP = 30;
const MANY = 50;
const EACH = 20;
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(22); // about 1 KB

interface AddMessage {
  addMessage(id: string, message: { role: 'user' | 'assistant'; content: string }): Promise<unknown>;
  create(key: ReturnType<typeof keyOf>): Promise<{ id: string }>;
}

const ms = (n: number) => Math.round(n * 100) / 100;

const LIST_RUNS = 7;

/** `LIST_RUNS` timed calls of `list` after one unmeasured. */
async function listSamples(list: () => Promise<unknown>): Promise<number[]> {
  await list();
  const samples: number[] = [];
  for (let i = 0; i < LIST_RUNS; i++) {
    const t = performance.now();
    await list();
    samples.push(performance.now() - t);
  }
  return samples;
}

async function appendSamples(
  api: AddMessage,
  tag: string,
): Promise<{ one: number[]; many: number[]; manyMs: number; oneMs: number }> {
  const first = await api.create(keyOf(`${tag}-one`));
  const one: number[] = [];
  let began = 0;
  for (let i = 0; i < WARMUP + ONE; i++) {
    if (i === WARMUP) began = performance.now();
    const t = performance.now();
    await api.addMessage(first.id, { role: i % 2 === 0 ? 'user' : 'assistant', content: `${i} ${TEXT}` });
    if (i >= WARMUP) one.push(performance.now() - t);
  }
  const oneMs = performance.now() - began;
  const ids = await Promise.all(Array.from({ length: MANY }, (_, n) => api.create(keyOf(`${tag}-m${n}`))));
  const many: number[] = [];
  const start = performance.now();
  await Promise.all(
    ids.map(async ({ id }) => {
      for (let i = 0; i < EACH; i++) {
        const t = performance.now();
        await api.addMessage(id, { role: i % 2 === 0 ? 'user' : 'assistant', content: `${i} ${TEXT}` });
        many.push(performance.now() - t);
      }
    }),
  );
  return { one, many, manyMs: performance.now() - start, oneMs };
}

async function storeSamples(store: SessionStore, tag: string): Promise<number[]> {
  const id = recordOf(keyOf(`${tag}-store`)).id;
  await store.create(recordOf(keyOf(`${tag}-store`)));
  const samples: number[] = [];
  for (let seq = 0; seq < WARMUP + ONE; seq++) {
    const t = performance.now();
    await store.append(id, [storedMessage(seq, `${seq} ${TEXT}`)]);
    if (seq >= WARMUP) samples.push(performance.now() - t);
  }
  return samples;
}

async function startEndpoint(): Promise<{ url: string; stop: () => Promise<void> }> {
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const child = fork(CHILD, [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      RESTATE_LOGGING: 'ERROR',
      DAGENT_ENDPOINT_MODULE: SERVICES_MODULE,
      DAGENT_ENDPOINT_PORT: String(port),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'listening' && resolve());
    child.on('exit', () => reject(new Error('the endpoint child exited')));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL');
      await once(child, 'exit').catch(() => undefined);
    },
  };
}

// The child serves a module's `services` export: a tiny module of our own that re-exports them.
const SERVICES_MODULE = path.resolve(HERE, 'restate-bench-services.ts');

async function fiftyMegabytes(store: SessionStore): Promise<BenchTable> {
  const key = keyOf('fifty');
  const id = recordOf(key).id;
  await store.create(recordOf(key));
  const big = 'x'.repeat(100 * 1024);
  const messages: Message[] = Array.from({ length: 512 }, (_, seq) => storedMessage(seq, `${seq} ${big}`));
  const fill = performance.now();
  for (let i = 0; i < messages.length; i += 32) await store.append(id, messages.slice(i, i + 32));
  const fillMs = performance.now() - fill;
  // Archive all but the last 12 with one commit (as a compaction would).
  const archived = messages.slice(0, 500);
  const now = new Date().toISOString();
  const empty = emptyCheckpoint(now);
  const checkpoint: Checkpoint = {
    ...empty,
    version: 1,
    compactionInfo: {
      ...empty.compactionInfo,
      compactor: 'bench',
      messagesCompacted: 500,
      archivedThroughSeq: 499,
      segment: 1,
      archivedMessages: 500,
      archivedTokens: archived.reduce((s, m) => s + m.tokens, 0),
    },
  };
  const commit = performance.now();
  await store.commit(id, {
    segment: {
      segment: 1,
      checkpointVersion: 1,
      createdAt: now,
      firstSeq: 0,
      lastSeq: 499,
      messages: archived,
    },
    checkpoint,
  });
  const commitMs = performance.now() - commit;
  const append: number[] = [];
  const page: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < 10; i++) {
    let t = performance.now();
    await store.append(id, [storedMessage(512 + i, `${i} ${TEXT}`)]);
    append.push(performance.now() - t);
    t = performance.now();
    await store.readArchive(id, { limit: 50, order: 'desc' });
    page.push(performance.now() - t);
    t = performance.now();
    await store.load(id);
    load.push(performance.now() - t);
  }
  const t = performance.now();
  const whole = await store.readArchive(id);
  const wholeMs = performance.now() - t;
  const bytes = JSON.stringify(whole.messages).length;
  return {
    title: 'A 50 MB session on Restate (store layer, 512 messages of 100 KB, 500 archived)',
    columns: ['operation', 'p50 ms', 'max ms'],
    rows: [
      ['fill: 16 appends of 32 messages (3.2 MB each), total', ms(fillMs), ms(fillMs)],
      ['commit of a 500-message segment (49 MB)', ms(commitMs), ms(commitMs)],
      ['append of one 1 KB message', ms(percentile(append, 0.5)), ms(Math.max(...append))],
      ['readArchive page: newest 50 (5 MB)', ms(percentile(page, 0.5)), ms(Math.max(...page))],
      ['load (head + 13 live messages)', ms(percentile(load, 0.5)), ms(Math.max(...load))],
      [
        `readArchive of everything (${Math.round(bytes / 2 ** 20)} MiB in 4 MiB pages)`,
        ms(wholeMs),
        ms(wholeMs),
      ],
    ],
    notes: [
      'No value holds more than one message; no answer more than a 4 MiB page (Restate caps both at 32 MiB).',
    ],
  };
}

export async function run(): Promise<BenchTable[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dagent-restate-bench-'));
  const local = await mkdtemp(path.join(os.tmpdir(), 'dagent-restate-bench-local-'));
  const server = await startLocalRestateServer({ dataDir });
  const endpoint = await startEndpoint();
  try {
    await registerDeployment(server.adminUrl, endpoint.url);
    const inProcess = await createSessionRuntime({ root: local });
    const handlers = createSessionHandlers(inProcess);
    const api = createSessionApiFromInvoke(
      (channel, ...args) => (handlers[channel] as (...a: unknown[]) => Promise<unknown>)(...args),
      (deliver) => inProcess.subscribe(deliver),
    );
    const here = await appendSamples(api, 'local');
    const ingress = clients.connect({ url: server.ingressUrl });
    const drain = (namespace: string) =>
      ingress.objectClient(sessionEvents, namespace).publish({ origin: 'bench', events: [] });
    // One unmeasured round of every Restate case first: the endpoint's code is compiled on its first
    // few hundred calls, which would otherwise be charged to whichever case runs first (the case with
    // events, which made the publication look several times dearer than it is).
    for (const [namespace, publishEvents] of [
      ['bench-warm', true],
      ['bench-warm-quiet', false],
    ] as const) {
      const warm = await createRestateSessionClient({
        ingressUrl: server.ingressUrl,
        namespace,
        publishEvents,
      });
      await appendSamples(warm, namespace);
      await warm.close();
      await drain(namespace);
    }
    const restate = await createRestateSessionClient({ ingressUrl: server.ingressUrl, namespace: 'bench' });
    const there = await appendSamples(restate, 'restate');
    // Listing the sessions the appends made (1 + MANY, each with messages), on both.
    const listThere = await listSamples(() => restate.list());
    const listHere = await listSamples(() => api.list());
    // The feed runs the object's one-way publications after the appends: let it finish them before
    // the next case, so that no case pays for the one before it (an exclusive call queues behind them).
    await drain('bench');
    const quiet = await createRestateSessionClient({
      ingressUrl: server.ingressUrl,
      namespace: 'bench-quiet',
      publishEvents: false,
    });
    const silent = await appendSamples(quiet, 'quiet');
    // The earlier write path: the runtime in this process on the Restate store (no event publication).
    const viaStore = await createSessionRuntime({
      store: createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'bench-runtime' }),
      root: 'restate',
    });
    const viaStoreHandlers = createSessionHandlers(viaStore);
    const earlier = await appendSamples(
      createSessionApiFromInvoke(
        (channel, ...args) => (viaStoreHandlers[channel] as (...a: unknown[]) => Promise<unknown>)(...args),
        (deliver) => viaStore.subscribe(deliver),
      ),
      'earlier',
    );
    await inProcess.close();
    await restate.close();
    await quiet.close();
    await viaStore.close();

    const fileStore = await JsonFileSessionStore.open({ root: path.join(local, 'store') });
    const restateStore = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'bench' });
    const storeHere = await storeSamples(fileStore, 'local');
    const storeThere = await storeSamples(restateStore, 'restate');
    // Restate's own floor: the smallest exclusive call (a counter's add: one state read, one write).
    const counter = ingress.objectClient(counterObject, 'bench');
    const floor: number[] = [];
    for (let i = 0; i < WARMUP + ONE; i++) {
      const t = performance.now();
      await counter.add(1);
      if (i >= WARMUP) floor.push(performance.now() - t);
    }
    await fileStore.close();

    const row = (name: string, a: number[], b: number[]) => {
      const [p50a, p50b] = [percentile(a, 0.5), percentile(b, 0.5)];
      return [name, ms(p50a), ms(percentile(a, 0.99)), ms(p50b), ms(percentile(b, 0.99)), ms(p50a / p50b)];
    };
    const appends: BenchTable = {
      title:
        `addMessage of 1 KB through Restate vs in-process (JSON-file store, ` +
        `fsync), ${ONE} sequential; ${MANY} sessions × ${EACH} at once`,
      columns: [
        'case',
        'Restate p50 ms',
        'Restate p99 ms',
        'in-process p50 ms',
        'in-process p99 ms',
        'p50 ratio',
      ],
      rows: [
        row('1 session, addMessage', there.one, here.one),
        row(`${MANY} sessions at once, addMessage`, there.many, here.many),
        row('1 session, addMessage, publishEvents: false', silent.one, here.one),
        row(`${MANY} sessions at once, publishEvents: false`, silent.many, here.many),
        row('earlier path (runtime here on the Restate store), 1 session', earlier.one, here.one),
        row(`earlier path, ${MANY} sessions at once`, earlier.many, here.many),
        row('store layer: one append call', storeThere, storeHere),
        row(`list, ${MANY + 1} sessions (${LIST_RUNS} calls)`, listThere, listHere),
        [
          'Restate floor: dagentCounter.add (no store)',
          ms(percentile(floor, 0.5)),
          ms(percentile(floor, 0.99)),
          '',
          '',
          '',
        ],
      ],
      notes: [
        `Throughput, 1 session: Restate ${Math.round((ONE / there.oneMs) * 1000)} appends/s, ` +
          `in-process ${Math.round((ONE / here.oneMs) * 1000)}/s; ` +
          `${MANY} sessions at once: Restate ${Math.round(((MANY * EACH) / there.manyMs) * 1000)}/s, ` +
          `in-process ${Math.round(((MANY * EACH) / here.manyMs) * 1000)}/s; ` +
          `without publishing events: ${Math.round((ONE / silent.oneMs) * 1000)}/s ` +
          `and ${Math.round(((MANY * EACH) / silent.manyMs) * 1000)}/s.`,
        'Restate: restate-server 1.7 from node_modules (4 partitions, loopback, ' +
          'its own data directory), the endpoint in a child process, the client in this process; ' +
          'every Restate case ran once unmeasured first (the endpoint warms up), the feed drained between cases. ' +
          "An append is one call of the session object's exclusive addMessage, which publishes its " +
          'event with a one-way send; the earlier path ran the runtime here and wrote through the store ' +
          '(its publication, a second call per batch, is left out of its rows).',
      ],
    };
    return [appends, await fiftyMegabytes(restateStore)];
  } finally {
    await endpoint.stop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(local, { recursive: true, force: true });
  }
}
