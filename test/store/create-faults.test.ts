/**
 * A create cut by an I/O fault (the LD_PRELOAD shim, in a child process) at any of its writes,
 * which run side by side (store/new-session-files.ts): it rejects with IO_ERROR, leaves no
 * temporary file and no session (session.json is put in place last), and a create after it
 * writes the session whole.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ID, KEY, recordOf } from '../../src/conformance/fixtures.js';
import type { InitialFiles } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';
import {
  FaultControl,
  buildFaultShim,
  runUnderShim,
  type Fault,
  type ShimBuild,
} from '../support/fault-shim.js';

const STORE = fileURLToPath(new URL('../../src/store/session-store.ts', import.meta.url));
const FILES: InitialFiles = {
  context: { featureName: 'Parser' },
  agentDescription: { role: 'dev', instructions: 'Write the parser' },
  counts: { description: { tokens: 7, counter: 'approximate/x', hash: '00000001' } },
};

let shim: ShimBuild;
beforeAll(async () => {
  shim = await buildFaultShim();
});

/** Creates the session in a child under `fault`; resolves to `'ok'` or the rejection's code and errno. */
async function createUnderFault(root: string, fault: Fault): Promise<unknown> {
  if (!shim.ok) throw new Error(shim.reason);
  const control = new FaultControl(root);
  await control.set(fault);
  const code = `
    const { JsonFileSessionStore } = await import(${JSON.stringify(STORE)});
    const [root, record, files] = process.argv.slice(1);
    const store = await JsonFileSessionStore.open({ root });
    try { await store.create(JSON.parse(record), JSON.parse(files)); console.log(JSON.stringify('ok')); }
    catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.details?.errno })); }
    finally { await store.close(); }`;
  return runUnderShim(shim.library, control, code, [
    root,
    JSON.stringify(recordOf(KEY)),
    JSON.stringify(FILES),
  ]);
}

describe('createSession under I/O faults', () => {
  it.for<[string, Fault]>([
    ['EIO on the fdatasync of session.json', { path: '.session.json.', ops: ['fsync'] }],
    ['EIO on the fdatasync of a first file', { path: '.counts.json.', ops: ['fsync'] }],
    [
      'a full disk on a first file',
      { path: '.agent-description.json.', short: true, count: -1, errno: 'ENOSPC' },
    ],
    ['EIO on the rename of a first file', { path: 'context.json', ops: ['rename'] }],
    ['EIO on the rename of session.json', { path: 'session.json', ops: ['rename'] }],
  ])('%s: IO_ERROR, no session, no temporary file; a create after it succeeds', async ([, fault], t) => {
    if (!shim.ok) return t.skip(shim.reason);
    const root = await tempRoot();
    const outcome = await createUnderFault(root, fault);
    expect(outcome).toEqual({ code: 'IO_ERROR', errno: fault.errno ?? 'EIO' });
    const dir = path.join(root, '.dagent', 'sessions', ID);
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names).not.toContain('session.json');

    const store = await JsonFileSessionStore.open({ root });
    try {
      expect(await store.presence(ID)).toBe('absent');
      await store.create(recordOf(KEY), FILES);
      await store.close();
      const fresh = await JsonFileSessionStore.open({ root });
      const head = await fresh.load(ID);
      expect(head.context).toEqual(FILES.context);
      expect(head.agentDescription).toEqual(FILES.agentDescription);
      expect(head.counts.description).toEqual(FILES.counts!.description);
      await fresh.close();
    } finally {
      await store.close();
    }
  });
});
