/**
 * Writes other than a compaction's commit whose file is renamed into place, after which the fsync
 * of the session's directory fails (EIO from the LD_PRELOAD shim, on that directory's own fsync
 * only): a clear, a checkpoint edit, `setContext` and `setAgentDescription`, each on a session of
 * its own, through a real runtime. Each leaves its session in doubt (the files hold the write,
 * memory does not), and a host that did not make the call sees it as it sees a commit in doubt: the
 * session's info (`getSession`, `listSessions`) says `failed`, with `error.details.outcome` and
 * what to do, its figures `unconfirmed`, and a `session.write.in-doubt` event says the same; a
 * compaction is refused at once; `reopenSession(id)` loads the files again and ends it.
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

/** The writes, each on its own session (featureId = its name). */
const WRITES = ['clear', 'edit', 'context', 'description'] as const;

/**
 * The child: per write, a session with a clear behind it and 3 live messages; then (EIO on its
 * directory's own fsync) the write; then what a host that did not make the call sees, an append,
 * a compaction and a write, a reopen and a write after it. Prints what each did.
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
const message = (i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'message ' + i + ' lorem ipsum' });
const names = ['clear', 'edit', 'context', 'description'];
// A first runtime: each session with a clear behind it (its archive and checkpoint directories
// made: the first directory fsync of the write below is its own) and 3 live messages; closed, so
// that every write it made (those after a commit run in the background) is done.
let runtime = await open();
for (const name of names) {
  const id = (await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: name })).id;
  for (let i = 0; i < 2; i++) await runtime.addMessage(id, message(i));
  await runtime.clearMessages(id);
  for (let i = 2; i < 5; i++) await runtime.addMessage(id, message(i));
}
await runtime.close();
runtime = await open();
const events = [];
runtime.subscribe((e) => events.push(e));
const outcome = (promise) => promise.then(
  (value) => ({ ok: true }),
  (e) => ({ code: e.code, retryable: e.retryable, message: e.message, details: e.details }),
);
const infoOf = (s) => ({
  state: s.state, version: s.checkpointVersion, live: s.liveMessages, error: s.error, figures: s.figures,
});
const writes = {
  clear: (id) => runtime.clearMessages(id),
  edit: (id) => runtime.editCheckpoint(id, { summary: { decisions: ['keep the parser'] } }),
  context: (id) => runtime.setContext(id, { projectNotes: 'notes after' }),
  description: (id) => runtime.setAgentDescription(id, { role: 'dev', instructions: 'after' }),
};
const out = {};
for (const name of names) {
  const id = 'feature--' + name + '--dev';
  await runtime.getSession(id); // loaded before the fault
  await runtime.store.settled();
  const seen = events.length;
  await control.set({ path: path.join(root, '.dagent', 'sessions', id) + '$', ops: ['fsync'], errno: 'EIO', count: 1 });
  const r = { write: await outcome(writes[name](id)) };
  await control.set(null);
  r.faulted = await control.faulted();
  await rm(control.log, { force: true }); // the next session's faulted calls alone
  r.doubts = events.slice(seen).filter((e) => e.type === 'session.write.in-doubt');
  r.states = events.slice(seen).filter((e) => e.type === 'session.state.changed').map((e) => e.to);
  r.info = infoOf(await runtime.getSession(id));
  r.listed = (await runtime.listSessions()).filter((s) => s.id === id).map(infoOf);
  r.append = await outcome(runtime.addMessage(id, message(5)));
  r.compact = await outcome(runtime.compact(id));
  r.again = await outcome(runtime.setContext(id, { projectNotes: 'refused' }));
  r.afterRefusal = infoOf(await runtime.getSession(id));
  r.reopened = await outcome(
    Promise.resolve().then(() => runtime.reopenSession(id)).then((s) => { r.reopenedInfo = infoOf(s); }),
  );
  r.after = await outcome(runtime.setContext(id, { projectNotes: 'after the reopen' }));
  r.afterInfo = infoOf(await runtime.getSession(id));
  out[name] = r;
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
  version: number;
  live: number;
  figures: string;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

interface Outcome {
  write: Failure;
  faulted: string[];
  doubts: { type: string; reason: string; failure: Failure }[];
  states: string[];
  info: Info;
  listed: Info[];
  append: { ok: true } | Failure;
  compact: Failure;
  again: Failure;
  afterRefusal: Info;
  reopened: { ok: true } | Failure;
  reopenedInfo: Info;
  after: { ok: true } | Failure;
  afterInfo: Info;
}

/** The file each write puts in place last (its commit point). */
const INSTALLED: Record<(typeof WRITES)[number], string> = {
  clear: 'checkpoint.json',
  edit: 'checkpoint.json',
  context: 'context.json',
  description: 'agent-description.json',
};

describe('a write other than a compaction in place but not durable (directory fsync EIO)', () => {
  it('shows the session failed, in doubt, to every host, until reopenSession', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const root = await realpath(await tempRoot('dagent-in-doubt-writes-'));
    const control = new FaultControl(root);
    await control.set(null);
    const out = (await runUnderShim(shim.library, control, CHILD, [root, root])) as Record<string, Outcome>;

    for (const name of WRITES) {
      const r = out[name]!;
      const id = `feature--${name}--dev`;
      const dir = path.join(root, '.dagent', 'sessions', id);
      const installed = path.join(dir, INSTALLED[name]);
      expect(r.faulted, name).toEqual([`fsync ${dir}`]);

      // The caller's rejection: in the files, not durable, what to do.
      expect(r.write, name).toMatchObject({
        code: 'IO_ERROR',
        retryable: false,
        details: { outcome: 'in-place-not-durable', installed },
      });
      expect(r.write.message, name).toContain('reopenSession');

      // What a host that did not make the call sees: the session's info, listed or got...
      const inDoubt = {
        state: 'failed',
        figures: 'unconfirmed',
        error: { code: 'IO_ERROR', details: { outcome: 'in-place-not-durable', installed } },
      };
      expect(r.info, name).toMatchObject(inDoubt);
      expect(r.info.error!.message, name).toContain('reopenSession');
      expect(r.listed, name).toMatchObject([inDoubt]);
      // ...and the events: the doubt, with the outcome and what to do, and the state change.
      expect(r.doubts, name).toMatchObject([
        {
          type: 'session.write.in-doubt',
          code: 'IO_ERROR',
          retryable: false,
          failure: { details: { outcome: 'in-place-not-durable', installed } },
        },
      ]);
      expect(r.doubts[0]!.reason, name).toContain('reopenSession');
      expect(r.states.at(-1), name).toBe('failed');

      // Appends go on; a compaction and another write are refused, nothing written; still failed.
      expect(r.append, name).toMatchObject({ ok: true });
      expect(r.compact, name).toMatchObject({ code: 'IO_ERROR', details: { outcome: 'refused-in-doubt' } });
      expect(r.again, name).toMatchObject({ code: 'IO_ERROR', details: { outcome: 'refused-in-doubt' } });
      expect(r.afterRefusal, name).toMatchObject(inDoubt);

      // reopenSession reads the files: the doubt is over, writes are taken again.
      expect(r.reopened, name).toMatchObject({ ok: true });
      expect(r.reopenedInfo, name).toMatchObject({ error: null, figures: 'confirmed' });
      expect(r.reopenedInfo.state, name).not.toBe('failed');
      expect(r.after, name).toMatchObject({ ok: true });
      expect(r.afterInfo, name).toMatchObject({ error: null, figures: 'confirmed' });
    }
    // The clear and the edit are in the files: a new version each, which the reopen reads.
    expect(out.clear!.reopenedInfo).toMatchObject({ version: 2, live: 1 });
    expect(out.edit!.reopenedInfo).toMatchObject({ version: 2, live: 4 });
  }, 120_000);
});
