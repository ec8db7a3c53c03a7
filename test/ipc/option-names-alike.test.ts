/**
 * The rule of every options object (`src/core/option-names.ts`) holds alike in process, over
 * Electron's IPC (which keeps `undefined`) and over HTTP (whose JSON drops it): a name that is none
 * of the options is refused, naming it; a name whose value is `undefined` is let be.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { serveSessions } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { KEY } from './happy-path.js';

/** The calls a host makes the same way in process and through a transport. */
type Ways = Pick<SessionAPI, 'getHistory' | 'compact' | 'buildRequest' | 'getCheckpoint' | 'clearMessages'>;

let runtime: SessionRuntime;
let server: { url: string; close(): Promise<void> };
let id: string;
const ways: Record<string, () => Ways> = {};

// A fresh root per test: tempRoot removes its roots after each one.
beforeEach(async () => {
  runtime = await createSessionRuntime({ root: await tempRoot() });
  id = (await runtime.createSession(KEY)).id;
  await runtime.addMessage(id, { role: 'user', content: 'hello' });
  const handlers = createSessionHandlers(runtime);
  // Electron structured-clones the arguments of ipcRenderer.invoke: `undefined` values cross.
  const electron = createSessionApiFromInvoke(
    async (channel, ...args) => handlers[channel](...structuredClone(args)),
    (deliver) => runtime.subscribe(deliver),
  );
  server = await serveSessions(runtime, {});
  const http = createSessionClient(server.url);
  ways['in process'] = () => runtime as unknown as Ways;
  ways['Electron IPC'] = () => electron;
  ways['HTTP'] = () => http;
});

afterEach(async () => {
  await server.close();
  await runtime.close();
});

/** What a call came to: its value's kind, or the refusal's code and message. */
async function outcome(
  call: () => Promise<unknown>,
): Promise<{ ok: boolean; code?: string; message?: string }> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, code: e.code, message: e.message };
  }
}

const LET_BE: Array<[string, (w: Ways) => Promise<unknown>]> = [
  [
    'getHistory { limit, cursr: undefined }',
    (w) => w.getHistory(id, { limit: 2, cursr: undefined } as never),
  ],
  ['getHistory { limit: undefined }', (w) => w.getHistory(id, { limit: undefined })],
  ['compact { keep: undefined }', (w) => w.compact(id, { keep: undefined } as never)],
  [
    'buildRequest { format, cach: undefined }',
    (w) => w.buildRequest(id, 'hi', { format: 'messages', cach: undefined } as never),
  ],
  ['getCheckpoint { version: undefined }', (w) => w.getCheckpoint(id, { version: undefined })],
  ['clearMessages { iteratoin: undefined }', (w) => w.clearMessages(id, { iteratoin: undefined } as never)],
  ['clearMessages { decisions: [] }', (w) => w.clearMessages(id, { decisions: [] })],
];

const REFUSED: Array<[string, (w: Ways) => Promise<unknown>, string]> = [
  ['getHistory { limt: 2 }', (w) => w.getHistory(id, { limt: 2 } as never), 'limt'],
  ['compact { keep: 0 }', (w) => w.compact(id, { keep: 0 } as never), 'keep'],
  ['buildRequest { fromat }', (w) => w.buildRequest(id, 'hi', { fromat: 'messages' } as never), 'fromat'],
  ['clearMessages { iteratoin }', (w) => w.clearMessages(id, { iteratoin: {} } as never), 'iteratoin'],
];

describe('an options name set to undefined', () => {
  for (const [name, call] of LET_BE) {
    it(`is let be in process, over Electron IPC and over HTTP: ${name}`, async () => {
      for (const [way, api] of Object.entries(ways)) {
        expect({ way, ...(await outcome(() => call(api()))) }).toEqual({ way, ok: true });
      }
    });
  }
});

describe('an options name that is none of the options', () => {
  for (const [name, call, field] of REFUSED) {
    it(`is refused alike in process, over Electron IPC and over HTTP, naming it: ${name}`, async () => {
      for (const [way, api] of Object.entries(ways)) {
        const got = await outcome(() => call(api()));
        expect({ way, ok: got.ok, code: got.code }).toEqual({ way, ok: false, code: 'INVALID_ARGUMENT' });
        expect(got.message).toContain(`"${field}" is not an option; the options are`);
      }
    });
  }
});

describe('clearMessages options', () => {
  it('let a name set to undefined be, and refuse a misspelt one naming it', async () => {
    await expect(runtime.clearMessages(id, { iteratoin: undefined } as never)).resolves.toMatchObject({
      archivedMessages: 1,
    });
    await expect(runtime.clearMessages(id, { iteratoin: {} } as never)).rejects.toThrow(
      /clearMessages: "iteratoin" is not an option; the options are iteration, decisions/,
    );
  });

  it('commit the iteration and decisions with the clear, alike in process, over Electron IPC and HTTP', async () => {
    await runtime.clearMessages(id); // 'hello'
    for (const [way, api] of Object.entries(ways)) {
      await runtime.addMessage(id, { role: 'user', content: `done over ${way}` });
      const cleared = await api().clearMessages(id, {
        iteration: {
          iteration: 4,
          checks: [{ checkId: 'tests', passed: true }],
          stopReason: 'checks passed',
        },
        decisions: [{ kind: 'decision', subject: `transport ${way}`, text: 'keep it', reasons: ['works'] }],
      });
      expect({ way, archived: cleared.archivedMessages }).toEqual({ way, archived: 1 });
      const ledger = (await runtime.getCheckpoint(id))?.ledger;
      expect({ way, version: (await runtime.getCheckpoint(id))?.version }).toEqual({
        way,
        version: cleared.checkpointVersion,
      });
      expect(ledger?.iterationLog?.[0]).toMatchObject({
        iteration: 4,
        text: expect.stringContaining('checks passed'),
      });
      expect(ledger?.decisions?.map((d) => d.key)).toContain(`decision:transport ${way}`);
    }
  });

  it('refuse what is not an iteration or a list of decisions alike, nothing archived', async () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['no options object', 'all', /must be an object with some of iteration, decisions/],
      ['an iteration of no number', { iteration: { stopReason: 'x' } }, /iteration/],
      ['decisions not a list', { decisions: { kind: 'review' } }, /decisions must be a list/],
      ['a decision of no kind', { decisions: [{ subject: 'x' }] }, /decision/],
    ];
    for (const [name, options, reason] of bad) {
      for (const [way, api] of Object.entries(ways)) {
        const got = await outcome(() => api().clearMessages(id, options as never));
        expect({ name, way, ok: got.ok, code: got.code }).toEqual({
          name,
          way,
          ok: false,
          code: 'INVALID_ARGUMENT',
        });
        expect(got.message).toMatch(reason);
      }
    }
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['hello']);
  });
});
