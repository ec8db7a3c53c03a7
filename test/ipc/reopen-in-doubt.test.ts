/**
 * A session in doubt (its compaction's checkpoint.json renamed into place, then EIO on the fsync of
 * its directory, from the LD_PRELOAD shim) reopened by a host that has only a transport: an Electron
 * renderer (`registerSessionIpc` + the preload API, over an ipcMain / ipcRenderer pair that
 * structured-clones as Electron does) and an HTTP client of `serveSessions` on loopback. Each sees
 * the doubt in `get(id).error.details.outcome` and calls `reopen(id)`: the session is loaded again
 * from its files (the commit is there) and takes every write again, as `runtime.reopenSession`.
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

/**
 * The child: sessions `ipc` and `http`, each put in doubt by a compaction whose directory fsync
 * fails, then reopened, one through Electron's IPC, the other through HTTP. Prints what each saw.
 */
const CHILD = `
const { createSessionRuntime } = await import(${JSON.stringify(`${SRC}runtime/create-session-runtime.ts`)});
const { createTokenEstimator } = await import(${JSON.stringify(`${SRC}tokens/token-estimator.ts`)});
const { registerSessionIpc } = await import(${JSON.stringify(`${SRC}ipc/electron.ts`)});
const { createSessionApiFromIpcRenderer } = await import(${JSON.stringify(`${SRC}ipc/preload.ts`)});
const { serveSessions } = await import(${JSON.stringify(`${SRC}ipc/http.ts`)});
const { createSessionClient } = await import(${JSON.stringify(`${SRC}ipc/client.ts`)});
const { FaultControl } = await import(${JSON.stringify(SHIM)});
const path = await import('node:path');
const [root, controlDir] = process.argv.slice(1);
const control = new FaultControl(controlDir);
const runtime = await createSessionRuntime({
  root,
  estimator: createTokenEstimator({ mode: 'approximate' }),
  limits: { maxTokens: 100000 },
});
// Electron's contract: invoke reaches the handle listener of its channel, arguments and answers cloned.
const handles = new Map();
const ipcMain = {
  handle: (channel, listener) => void handles.set(channel, listener),
  removeHandler: (channel) => void handles.delete(channel),
};
const unregister = registerSessionIpc(ipcMain, runtime, {
  allowSender: (e) => e.senderFrame?.url.startsWith('app://') === true,
});
const ipcRenderer = {
  async invoke(channel, ...args) {
    const listener = handles.get(channel);
    if (!listener) throw new Error("Error invoking remote method '" + channel + "': No handler registered");
    const sender = { send() {} };
    const event = { sender, senderFrame: { url: 'app://index.html' } };
    return structuredClone(await listener(event, ...structuredClone(args)));
  },
  on() {},
  removeListener() {},
};
const electron = createSessionApiFromIpcRenderer(ipcRenderer);
const server = await serveSessions(runtime);
const http = createSessionClient(server.url);
const outcome = (call) => Promise.resolve().then(call).then(
  (value) => ({ ok: true, value }),
  (e) => ({ code: e.code, message: e.message, details: e.details }),
);
const infoOf = (s) => ({ state: s.state, version: s.checkpointVersion, error: s.error });
const message = (i) => ({
  role: i % 2 ? 'assistant' : 'user',
  content: 'message ' + i + ' ' + 'lorem ipsum '.repeat(20),
});
const out = {};
for (const [name, api] of [['ipc', electron], ['http', http]]) {
  const id = (await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: name })).id;
  for (let i = 0; i < 8; i++) await runtime.addMessage(id, message(i));
  await runtime.compact(id, { keepRecentTokens: 60 });
  for (let i = 8; i < 16; i++) await runtime.addMessage(id, message(i));
  await runtime.store.settled(); // the background fold of the first compaction is not the one faulted
  await control.set({ path: path.join(root, '.dagent', 'sessions', id) + '$', ops: ['fsync'], errno: 'EIO', count: 1 });
  const compact = await outcome(() => api.compact(id, { keepRecentTokens: 60 }));
  await control.set(null);
  const seen = {};
  seen.compact = { code: compact.code, outcome: compact.details?.outcome };
  seen.inDoubt = infoOf(await api.get(id));
  seen.clear = await outcome(() => api.clearMessages(id));
  seen.reopened = await outcome(() => api.reopen(id).then(infoOf));
  seen.after = await outcome(() => api.clearMessages(id));
  seen.version = (await api.get(id)).checkpointVersion;
  out[name] = seen;
}
out.faulted = await control.faulted();
unregister();
await server.close();
await runtime.close();
console.log(JSON.stringify(out));
`;

describe('reopen over a transport, for a session whose compaction is in doubt', () => {
  it('loads the session again from its files, over Electron IPC and over HTTP', async (t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const root = await realpath(await tempRoot('dagent-ipc-reopen-'));
    const control = new FaultControl(root);
    await control.set(null);
    const out = (await runUnderShim(shim.library, control, CHILD, [root, root])) as Record<
      string,
      Record<string, unknown>
    >;
    expect(out.faulted).toEqual(
      ['ipc', 'http'].map(
        (name) => `fsync ${path.join(root, '.dagent', 'sessions', `feature--${name}--dev`)}`,
      ),
    );
    for (const way of ['ipc', 'http']) {
      const seen = out[way]!;
      // What the host sees through the transport: the doubt, and writes other than appends refused.
      expect({ way, ...(seen.compact as object) }).toEqual({
        way,
        code: 'IO_ERROR',
        outcome: 'in-place-not-durable',
      });
      expect({ way, ...(seen.inDoubt as object) }).toMatchObject({
        way,
        state: 'failed',
        version: 1,
        error: { code: 'IO_ERROR', details: { outcome: 'in-place-not-durable' } },
      });
      expect({ way, ...(seen.clear as object) }).toMatchObject({
        way,
        code: 'IO_ERROR',
        details: { outcome: 'refused-in-doubt' },
      });
      // reopen: the files read again (the commit is there: version 2), no error, writes taken again.
      expect({ way, ...(seen.reopened as object) }).toMatchObject({
        way,
        ok: true,
        value: { version: 2, error: null },
      });
      expect((seen.reopened as { value: { state: string } }).value.state).not.toBe('failed');
      expect({ way, ...(seen.after as object) }).toMatchObject({ way, ok: true });
      expect(seen.version).toBe(3);
    }
  }, 120_000);
});
