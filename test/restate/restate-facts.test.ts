/**
 * What the session object will rely on, pinned down against the real server (docs/restate.md,
 * "Facts"): a shared handler sees the writes of an exclusive handler that has not finished, so a
 * commit must be ordered or versioned; an idempotency key on an ingress call runs the handler
 * once; a handler with `journalRetention: 0` leaves no journal (so no message text) once done,
 * and retention set on a handler reaches the server; `RestatePromise.all` joins durable steps; a
 * terminal failure does not take back earlier writes; a workflow runs once per id.
 * The endpoint runs in this process.
 */
import * as restate from '@restatedev/restate-sdk';
import * as clients from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { useRestateServer } from '../support/restate-server.js';

interface Peek {
  first: number | null;
  second: number | null;
  awakeable: string | null;
}

const facts = restate.object({
  name: 'factsProbe',
  handlers: {
    /** Writes `first`, waits for an awakeable whose id it writes too, then writes `second`. */
    twoWrites: async (ctx: restate.ObjectContext): Promise<string> => {
      ctx.set('first', 1);
      const { id, promise } = ctx.awakeable<string>();
      ctx.set('awakeable', id);
      const word = await promise;
      ctx.set('second', 2);
      return word;
    },
    peek: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext): Promise<Peek> => ({
      first: await ctx.get<number>('first'),
      second: await ctx.get<number>('second'),
      awakeable: await ctx.get<string>('awakeable'),
    })),
    readKey: restate.handlers.object.shared(
      async (ctx: restate.ObjectSharedContext, name: string): Promise<unknown> => ctx.get(name),
    ),
    /** Writes, then fails for good: nothing takes the write back. */
    writeThenFail: async (ctx: restate.ObjectContext): Promise<void> => {
      ctx.set('written', true);
      throw new restate.TerminalError('failed after writing', { errorCode: 409 });
    },
    /** Counts its own executions. */
    bump: async (ctx: restate.ObjectContext): Promise<number> => {
      const runs = ((await ctx.get<number>('runs')) ?? 0) + 1;
      ctx.set('runs', runs);
      return runs;
    },
    /** Two durable steps joined with the SDK's combinator. */
    both: async (ctx: restate.ObjectContext, words: [string, string]): Promise<string[]> =>
      restate.RestatePromise.all([
        ctx.run('first', () => words[0].toUpperCase()),
        ctx.run('second', () => words[1].toUpperCase()),
      ]),
    /** Carries message text, and keeps no journal of it once done. */
    forget: restate.handlers.object.exclusive(
      { journalRetention: 0 },
      async (ctx: restate.ObjectContext, text: string): Promise<number> => {
        ctx.set('last', text);
        return text.length;
      },
    ),
    /** Carries message text: its journal is kept for one minute, its idempotency records for ten. */
    carry: restate.handlers.object.exclusive(
      { journalRetention: { minutes: 1 }, idempotencyRetention: { minutes: 10 } },
      async (_ctx: restate.ObjectContext, text: string): Promise<number> => text.length,
    ),
  },
  options: { enableLazyState: true },
});

/** A workflow per id, ending in a call to an exclusive handler: the shape of a compaction. */
const fold = restate.workflow({
  name: 'factsFold',
  handlers: {
    run: async (ctx: restate.WorkflowContext, key: string): Promise<number> => {
      const [a, b] = await restate.RestatePromise.all([ctx.run('a', () => 1), ctx.run('b', () => 2)]);
      const runs = await ctx.objectClient(facts, key).bump();
      return a + b + runs * 100;
    },
  },
  options: { workflowRetention: { minutes: 5 }, journalRetention: 0 },
});

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let ingress: clients.Ingress;

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: [facts, fold], logger: () => undefined });
  await server.register(endpoint.url);
  ingress = clients.connect({ url: server.ingressUrl });
});

afterAll(async () => {
  await endpoint?.close();
});

describe('Restate, as the session object will use it', () => {
  it('lets a shared handler see what a running exclusive handler has written so far', async () => {
    // An idempotency key makes the server keep the result for `ingress.result`.
    const send = await ingress
      .objectSendClient(facts, 'half')
      .twoWrites(clients.rpc.sendOpts<void>({ idempotencyKey: 'two-writes' }));
    const probe = ingress.objectClient(facts, 'half');
    // Wait on state, not on the clock: the exclusive handler has written its awakeable's id.
    // A peek reads its keys one by one (lazy state), `first` before `awakeable`, so the peek that
    // first sees the id may have read `first` before it was written: peek once more. The writer
    // is parked on the awakeable now, so that peek sees exactly what it wrote before it.
    let awakeable: string | null = null;
    while (awakeable === null) awakeable = (await probe.peek()).awakeable;
    expect(await probe.peek()).toEqual({ first: 1, second: null, awakeable });

    await ingress.resolveAwakeable(awakeable, 'done');
    expect(await ingress.result(send)).toBe('done');
    expect(await probe.peek()).toMatchObject({ first: 1, second: 2 });
  });

  it('runs a handler called twice with one idempotency key once, and answers both the same', async () => {
    const probe = ingress.objectClient(facts, 'idem');
    const once = clients.rpc.opts<void, number>({ idempotencyKey: 'bump-1' });
    expect(await probe.bump(once)).toBe(1);
    expect(await probe.bump(once)).toBe(1);
    expect(await probe.bump()).toBe(2);
  });

  it('joins durable steps with RestatePromise.all', async () => {
    expect(await ingress.objectClient(facts, 'all').both(['a', 'b'])).toEqual(['A', 'B']);
  });

  it('drops the journal of a handler with journalRetention 0 when it completes; keeps it by default', async () => {
    const journalRows = async (handler: 'forget' | 'bump', key: string): Promise<number> => {
      const client = ingress.objectSendClient(facts, key);
      const opts = clients.rpc.sendOpts<string>({ idempotencyKey: `${handler}-${key}` });
      const send = handler === 'forget' ? await client.forget('secret text', opts) : await client.bump(opts);
      await ingress.result(send);
      const response = await fetch(`${server.adminUrl}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: `SELECT index FROM sys_journal WHERE id = '${send.invocationId}'` }),
      });
      return ((await response.json()) as { rows: unknown[] }).rows.length;
    };
    expect(await journalRows('forget', 'j1')).toBe(0);
    expect(await journalRows('bump', 'j2')).toBeGreaterThan(0);
  });

  it('keeps the writes of a handler that then fails terminally: nothing is rolled back', async () => {
    const probe = ingress.objectClient(facts, 'fail');
    await expect(probe.writeThenFail()).rejects.toThrow('failed after writing');
    expect(await probe.readKey('written')).toBe(true);
  });

  it('runs a workflow once per id, however often it is submitted', async () => {
    const flow = ingress.workflowClient(fold, 'fold-1');
    const first = await flow.workflowSubmit('wf');
    const again = await flow.workflowSubmit('wf').then(
      (submission) => submission.status,
      (error: unknown) => String(error),
    );
    expect([first.status, again]).toEqual(['Accepted', 'PreviouslyAccepted']);
    expect(await flow.workflowAttach()).toBe(103);
    expect(await ingress.objectClient(facts, 'wf').bump()).toBe(2);
  });

  it('registers per-handler journal and idempotency retention, and lazy state, with the server', async () => {
    const response = await fetch(`${server.adminUrl}/services/factsProbe`);
    expect(response.status).toBe(200);
    const service = (await response.json()) as {
      enable_lazy_state?: boolean;
      journal_retention?: string;
      handlers: { name: string; journal_retention?: string; idempotency_retention?: string }[];
    };
    expect(service.enable_lazy_state).toBe(true);
    const carry = service.handlers.find((h) => h.name === 'carry');
    expect(carry).toMatchObject({ journal_retention: '1m', idempotency_retention: '10m' });
    // The others keep the server's default (`default-journal-retention`, one day).
    expect(service.journal_retention).toBe('1d');
    expect(service.handlers.find((h) => h.name === 'bump')).not.toHaveProperty('journal_retention');
  });
});
