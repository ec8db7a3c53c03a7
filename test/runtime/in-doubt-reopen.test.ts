/**
 * A runtime's compaction whose checkpoint.json is renamed into place, after which the fsync of the
 * session's directory fails (EIO from the LD_PRELOAD shim, on that directory's own fsync only): the
 * session is in doubt (the files hold the commit, memory does not). What its host sees through the
 * runtime alone: the rejection, the `session.compaction.failed` event (and `session.write.in-doubt`,
 * as for any write in doubt) and the session's info all carry the outcome and say what to do, the
 * info's figures those from before the commit, marked `unconfirmed`; the session takes appends,
 * retries nothing by itself, starts no compaction the store could only refuse (a turn past the
 * threshold, `compact`), stays `failed` (a refused clear does not make it idle, so the supervisor's
 * idle stop does not reload it behind the host's back); and `reopenSession(id)` loads it again from
 * its files, as a restart would, without restarting the runtime's other sessions.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, runUnderShim, type ShimBuild } from '../support/fault-shim.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHIM = fileURLToPath(new URL('../support/fault-shim.ts', import.meta.url));

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

/**
 * The child: two sessions; session A gets 8 messages and a compaction, 8 more, then (EIO on its
 * directory's fsync) a second compaction; then what a host may do next. Prints what each did.
 */
const CHILD = `
const { createSessionRuntime } = await import(${JSON.stringify(`${SRC}runtime/create-session-runtime.ts`)});
const { createTokenEstimator } = await import(${JSON.stringify(`${SRC}tokens/token-estimator.ts`)});
const { FaultControl } = await import(${JSON.stringify(SHIM)});
const path = await import('node:path');
const [root, controlDir] = process.argv.slice(1);
const control = new FaultControl(controlDir);
const runtime = await createSessionRuntime({
  root,
  estimator: createTokenEstimator({ mode: 'approximate' }),
  limits: { maxTokens: 100000 },
});
const events = [];
runtime.subscribe((e) => events.push(e));
const outcome = (promise) => promise.then(
  (value) => ({ ok: true, value }),
  (e) => ({ code: e.code, retryable: e.retryable, message: e.message, details: e.details }),
);
const infoOf = (s) => ({
  state: s.state, version: s.checkpointVersion, live: s.liveMessages, error: s.error, figures: s.figures,
});
const message = (i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: 'message ' + i + ' ' + 'lorem ipsum '.repeat(20),
});
const a = (await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'a' })).id;
const b = (await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'b' })).id;
await runtime.addMessage(b, message(0));
const acked = [];
for (let i = 0; i < 8; i++) acked.push(await runtime.addMessage(a, message(i)));
await runtime.compact(a, { keepRecentTokens: 60 });
for (let i = 8; i < 16; i++) acked.push(await runtime.addMessage(a, message(i)));
// The fold the first compaction started in the background (it drops the archived messages from
// chat.json) ends first: its directory fsync is not the one faulted (on a loaded machine it was).
await runtime.store.settled();
await control.set({ path: path.join(root, '.dagent', 'sessions', a) + '$', ops: ['fsync'], errno: 'EIO', count: 1 });
const out = {};
out.compact = await outcome(runtime.compact(a, { keepRecentTokens: 60 }));
await control.set(null);
out.faulted = await control.faulted();
out.failed = events.filter((e) => e.type === 'session.compaction.failed');
out.doubts = events.filter((e) => e.type === 'session.write.in-doubt');
out.info = infoOf(await runtime.getSession(a));
out.listed = (await runtime.listSessions()).filter((s) => s.id === a).map(infoOf);
out.append = await outcome(runtime.addMessage(a, message(16)));
if (out.append.ok) acked.push(out.append.value);
out.clear = await outcome(runtime.clearMessages(a));
out.afterClear = infoOf(await runtime.getSession(a));
// A long append takes the next request past the threshold: a turn does not start a compaction the
// store can only refuse (with the model's compactor, a paid call per turn).
const long = await outcome(runtime.addMessage(a, { role: 'user', content: 'long '.repeat(95000) }));
if (long.ok) acked.push(long.value);
out.over = (await runtime.estimateSize(a)).needsCompaction;
const started = events.filter((e) => e.type === 'session.compaction.started').length;
const request = await outcome(runtime.buildRequest(a, 'next'));
out.request = request.ok ? { compactionError: request.value.compactionError } : request;
out.compact2 = await outcome(runtime.compact(a));
out.startedInDoubt = events.filter((e) => e.type === 'session.compaction.started').length - started;
out.bActor = runtime.activeSessionIds().includes(b);
out.reopened = await outcome(Promise.resolve().then(() => runtime.reopenSession(a)).then(infoOf));
out.bStill = runtime.activeSessionIds().includes(b);
out.after = await outcome(runtime.compact(a, { keepRecentTokens: 60 }).then((r) => r.kind));
out.version = (await runtime.getSession(a)).checkpointVersion;
const history = await runtime.getHistory(a);
out.history = JSON.stringify(history) === JSON.stringify(acked);
out.seqs = history.map((m) => m.seq);
await runtime.close();
console.log(JSON.stringify(out));
`;

interface Failure {
  code: string;
  retryable: boolean;
  message: string;
  details: Record<string, unknown>;
}

describe('a runtime compaction committed in place but not durably (directory fsync EIO)', () => {
  it('tells the host, takes appends, stays failed, and reopenSession loads the files again', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const root = await realpath(await tempRoot('dagent-in-doubt-reopen-'));
    const control = new FaultControl(root);
    await control.set(null);
    const out = (await runUnderShim(shim.library, control, CHILD, [root, root])) as Record<string, unknown>;
    const id = 'feature--a--dev';
    const dir = path.join(root, '.dagent', 'sessions', id);
    expect(out.faulted).toEqual([`fsync ${dir}`]);

    // The rejection: the store's error, with what a runtime's host can do.
    const compact = out.compact as Failure;
    expect(compact).toMatchObject({
      code: 'IO_ERROR',
      retryable: false,
      details: { outcome: 'in-place-not-durable', installed: path.join(dir, 'checkpoint.json') },
    });
    expect(compact.message).toContain('reopenSession');

    // The event: not retried, and it carries the outcome.
    expect(out.failed).toHaveLength(1);
    expect(out.failed).toMatchObject([
      {
        code: 'IO_ERROR',
        retryable: false,
        willRetryInMs: null,
        failure: { details: { outcome: 'in-place-not-durable' } },
      },
    ]);
    expect((out.failed as { reason: string }[])[0]!.reason).toContain('reopenSession');
    // And, as for every write in doubt, session.write.in-doubt.
    expect(out.doubts).toMatchObject([
      { retryable: false, failure: { details: { outcome: 'in-place-not-durable' } } },
    ]);

    // getSession and listSessions: failed, in doubt, the figures of memory (before the commit),
    // marked unconfirmed: the files hold the commit's until a power loss undoes it.
    const inDoubt = {
      state: 'failed',
      figures: 'unconfirmed',
      version: 1,
      error: { code: 'IO_ERROR', details: { outcome: 'in-place-not-durable' } },
    };
    expect(out.info).toMatchObject(inDoubt);
    expect(out.listed).toMatchObject([inDoubt]);

    // Appends go on; a clear is refused and leaves the session failed, not idle.
    expect(out.append).toMatchObject({ ok: true });
    expect(out.clear).toMatchObject({ code: 'IO_ERROR', details: { outcome: 'refused-in-doubt' } });
    expect(out.afterClear).toMatchObject({
      state: 'failed',
      error: { details: { outcome: expect.any(String) } },
    });

    // Past the threshold, neither a turn nor compact() starts a compaction (a summary, a model call
    // with a model's compactor) that the store can only refuse: refused at once, nothing written.
    expect(out.over).toBe(true);
    expect(out.request).toMatchObject({ compactionError: { code: 'IO_ERROR' } });
    expect(out.compact2).toMatchObject({
      code: 'IO_ERROR',
      retryable: false,
      details: { outcome: 'refused-in-doubt', installed: path.join(dir, 'checkpoint.json') },
    });
    expect((out.compact2 as Failure).message).toContain('runtime.reopenSession(id)');
    expect(out.startedInDoubt).toBe(0);

    // reopenSession: the files read again (the commit is there: version 2, fewer live messages),
    // writes taken again (it may compact at once: past the threshold); the other session's actor
    // is left alone.
    expect(out.bActor).toBe(true);
    expect(out.reopened).toMatchObject({
      ok: true,
      value: { version: 2, error: null, figures: 'confirmed' },
    });
    const reopened = (out.reopened as { value: { state: string; live: number } }).value;
    expect(reopened.state).not.toBe('failed');
    expect(reopened.live).toBeLessThan(18);
    expect(out.bStill).toBe(true);
    expect(out.after).toMatchObject({ ok: true });
    expect(out.version).toBeGreaterThanOrEqual(3);
    expect(out.history).toBe(true);
    expect(out.seqs).toEqual(Array.from({ length: 18 }, (_, i) => i));

    // A new process: every acknowledged message once, the last compaction committed.
    const store = await JsonFileSessionStore.open({ root });
    try {
      const head = await store.load(id);
      const archived = (await store.readArchive(id)).messages;
      expect([...archived, ...head.messages].map((m) => m.seq)).toEqual(out.seqs);
      expect(head.checkpoint?.version).toBe(out.version);
    } finally {
      await store.close();
    }
  }, 60_000);
});
