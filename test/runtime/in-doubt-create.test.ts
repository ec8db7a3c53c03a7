/**
 * A `createSession` whose session.json is renamed into place, after which the fsync of the session's
 * directory fails (EIO from the LD_PRELOAD shim, on that directory's second fsync: the first covers
 * the files before session.json). The session is in the files, its creation not durable: in doubt.
 * What the hosts see, through a real runtime: the caller's rejection says so; every host sees the
 * session as any session with a write in doubt (`getSession`, `listSessions`: `failed`, the error
 * with its outcome, figures `unconfirmed`; a `session.write.in-doubt` event), which takes appends
 * and refuses other writes and compactions. The create is confirmed once, by the retried create
 * (session A) or by `reopenSession` (session B): `session.created` then, once; a third, left in
 * doubt (C), is read from its files by the next runtime. Nothing lost, nothing twice.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, runUnderShim, type ShimBuild } from '../support/fault-shim.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHIM = fileURLToPath(new URL('../support/fault-shim.ts', import.meta.url));

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

const NAMES = ['a', 'b', 'c'] as const;

/**
 * The child: per session, its create under the fault, what a host sees next, an append and the
 * writes it refuses; A confirmed by a retried create (then retried again), B by reopenSession, C
 * left as it is; then a second runtime on the same root. Prints what each did.
 */
const CHILD = `
const { createSessionRuntime } = await import(${JSON.stringify(`${SRC}runtime/create-session-runtime.ts`)});
const { createTokenEstimator } = await import(${JSON.stringify(`${SRC}tokens/token-estimator.ts`)});
const { FaultControl } = await import(${JSON.stringify(SHIM)});
const path = await import('node:path');
const { rm } = await import('node:fs/promises');
const [root, controlDir] = process.argv.slice(1);
const control = new FaultControl(controlDir);
const open = () => createSessionRuntime({
  root,
  estimator: createTokenEstimator({ mode: 'approximate' }),
  limits: { maxTokens: 100000 },
});
const outcome = (promise) => Promise.resolve().then(() => promise).then(
  (value) => ({ ok: true, value }),
  (e) => ({ code: e.code, retryable: e.retryable, message: e.message, details: e.details }),
);
const infoOf = (s) => ({ state: s.state, live: s.liveMessages, error: s.error, figures: s.figures });
const keyOf = (name) => ({ type: 'feature', agentType: 'dev', featureId: name });
let runtime = await open();
const events = [];
runtime.subscribe((e) => events.push(e));
const eventsOf = (id) => events.filter((e) => e.sessionId === id && e.type !== 'session.state.changed');
const out = {};
for (const name of ['a', 'b', 'c']) {
  const id = 'feature--' + name + '--dev';
  const dir = path.join(root, '.dagent', 'sessions', id);
  await control.set({ path: dir + '$', ops: ['fsync'], errno: 'EIO', nth: 2, count: 1 });
  const r = { create: await outcome(runtime.createSession(keyOf(name))) };
  await control.set(null);
  r.faulted = await control.faulted();
  await rm(control.log, { force: true }); // the next session's faulted calls alone
  r.events = eventsOf(id).map((e) => ({ type: e.type, failure: e.failure }));
  r.info = infoOf(await runtime.getSession(id));
  r.listed = (await runtime.listSessions()).filter((s) => s.id === id).map(infoOf);
  r.append = await outcome(runtime.addMessage(id, { role: 'user', content: 'first of ' + name }));
  r.context = await outcome(runtime.setContext(id, { projectNotes: 'refused' }));
  r.compact = await outcome(runtime.compact(id));
  r.archive = await outcome(runtime.archiveSession(id));
  r.afterRefusals = infoOf(await runtime.getSession(id));
  out[name] = r;
}
out.a.confirm = await outcome(runtime.createSession(keyOf('a')).then(infoOf));
out.a.again = await outcome(runtime.createSession(keyOf('a')).then(infoOf));
out.b.confirm = await outcome(runtime.reopenSession('feature--b--dev').then(infoOf));
for (const name of ['a', 'b']) {
  const id = 'feature--' + name + '--dev';
  out[name].after = await outcome(runtime.setContext(id, { projectNotes: 'after' }));
  out[name].messages = (await runtime.getMessages(id)).map((m) => m.content);
  out[name].eventsAfter = eventsOf(id).map((e) => e.type);
}
out.c.still = infoOf(await runtime.getSession('feature--c--dev'));
await runtime.close();
runtime = await open();
out.restart = {};
for (const s of await runtime.listSessions()) {
  const messages = (await runtime.getMessages(s.id)).map((m) => m.content);
  out.restart[s.id] = { ...infoOf(await runtime.getSession(s.id)), messages };
}
await runtime.close();
console.log(JSON.stringify(out));
`;

interface Failure {
  code: string;
  retryable: boolean;
  message: string;
  details: Record<string, unknown>;
}

interface Info {
  state: string;
  live: number;
  figures: string;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

type Outcome<T = unknown> = { ok: true; value: T } | Failure;

interface Created {
  create: Failure;
  faulted: string[];
  events: { type: string; failure?: Failure }[];
  info: Info;
  listed: Info[];
  append: Outcome;
  context: Outcome;
  compact: Outcome;
  archive: Outcome;
  afterRefusals: Info;
  confirm?: Outcome<Info>;
  again?: Outcome<Info>;
  after?: Outcome;
  messages?: string[];
  eventsAfter?: string[];
  still?: Info;
}

describe('createSession in place but not durable (directory fsync EIO after session.json)', () => {
  it('shows the session in doubt to every host until a retried create or reopenSession confirms it', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const root = await realpath(await tempRoot('dagent-in-doubt-create-'));
    const control = new FaultControl(root);
    await control.set(null);
    const out = (await runUnderShim(shim.library, control, CHILD, [root, root])) as Record<
      string,
      Created
    > & {
      restart: Record<string, Info & { messages: string[] }>;
    };

    for (const name of NAMES) {
      const r = out[name]!;
      const id = `feature--${name}--dev`;
      const dir = path.join(root, '.dagent', 'sessions', id);
      const installed = path.join(dir, 'session.json');
      expect(r.faulted, name).toEqual([`fsync ${dir}`]);

      // The caller's rejection: in the files, not durable, what to do.
      expect(r.create, name).toMatchObject({
        code: 'IO_ERROR',
        retryable: false,
        details: { outcome: 'in-place-not-durable', installed },
      });
      expect(r.create.message, name).toContain('reopenSession');

      // Every host: the session is there, failed, in doubt, its figures unconfirmed...
      const inDoubt = {
        state: 'failed',
        figures: 'unconfirmed',
        error: { code: 'IO_ERROR', details: { outcome: 'in-place-not-durable', installed } },
      };
      expect(r.info, name).toMatchObject(inDoubt);
      expect(r.listed, name).toMatchObject([inDoubt]);
      // ...and an event says so; no session.created while the create is in doubt.
      expect(r.events, name).toMatchObject([
        {
          type: 'session.write.in-doubt',
          failure: { details: { outcome: 'in-place-not-durable', installed } },
        },
      ]);

      // Appends go on; other writes and a compaction are refused, nothing written; still in doubt.
      expect(r.append, name).toMatchObject({ ok: true });
      for (const refused of [r.context, r.compact, r.archive])
        expect(refused, name).toMatchObject({ code: 'IO_ERROR', details: { outcome: 'refused-in-doubt' } });
      expect(r.afterRefusals, name).toMatchObject({ ...inDoubt, live: 1 });
    }

    // A retried create (A) or reopenSession (B) reads the files: confirmed, writes taken again,
    // the message appended meanwhile kept, session.created once (a further create announces nothing).
    const confirmed = { ok: true, value: { error: null, figures: 'confirmed', live: 1 } };
    expect(out.a!.confirm).toMatchObject(confirmed);
    expect(out.a!.again).toMatchObject(confirmed);
    expect(out.b!.confirm).toMatchObject(confirmed);
    for (const name of ['a', 'b'] as const) {
      const r = out[name]!;
      expect((r.confirm as { value: Info }).value.state, name).not.toBe('failed');
      expect(r.after, name).toMatchObject({ ok: true });
      expect(r.messages, name).toEqual([`first of ${name}`]);
      expect(r.eventsAfter, name).toEqual([
        'session.write.in-doubt',
        'session.message.appended',
        'session.created',
        'session.context.changed',
      ]);
    }
    // C, left in doubt, stays so in its runtime.
    expect(out.c!.still).toMatchObject({ state: 'failed', figures: 'unconfirmed' });

    // The next runtime reads the files: each session once, confirmed, with its message.
    expect(Object.keys(out.restart).sort()).toEqual(NAMES.map((n) => `feature--${n}--dev`));
    for (const name of NAMES)
      expect(out.restart[`feature--${name}--dev`], name).toMatchObject({
        error: null,
        figures: 'confirmed',
        messages: [`first of ${name}`],
      });
  }, 120_000);
});
