/**
 * An async event listener that rejects is isolated like one that throws: its error is logged and
 * the runtime, its other listeners and the host's process go on. Before, the rejection was left
 * unhandled, and Node ended the host's process on it (`runtime.subscribe(async (e) => { await
 * db.write(e); })` with the database down), in the middle of `createSession`. The same holds for
 * the `onEvent` listeners of the IPC/HTTP API.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { tempRoot } from '../helpers/temp-root.js';

/** Resolves once the rejection handlers of the promises settled before it have run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

let logged: MockInstance<typeof console.error>;
beforeEach(() => {
  logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => logged.mockRestore());

/** The errors logged as a listener's, by message. */
const loggedErrors = () =>
  logged.mock.calls.filter(([, e]) => e instanceof Error).map(([, e]) => (e as Error).message);

describe('an async event listener that rejects', () => {
  it('is logged, and the runtime and the other listeners go on', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const seen: string[] = [];
    runtime.subscribe(async (event) => {
      await Promise.resolve();
      throw new Error(`listener failed on ${event.type}`);
    });
    runtime.subscribe((event) => void seen.push(event.type));
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'f' });
    await runtime.addMessage(id, { role: 'user', content: 'Run the tests' });
    await turn();
    expect(seen).toContain('session.created');
    expect(seen).toContain('session.message.appended');
    expect(loggedErrors()).toContain('listener failed on session.created');
    expect(loggedErrors()).toContain('listener failed on session.message.appended');
    expect((await runtime.getHistory(id)).map((m) => m.content)).toEqual(['Run the tests']);
    await runtime.close();
  });

  it('is logged by the IPC API too, and the other onEvent listeners get the event', async () => {
    let deliver: (event: SessionEvent) => void = () => undefined;
    const api = createSessionApiFromInvoke(
      async () => ({ ok: true, value: null }),
      (d) => {
        deliver = d;
        return () => undefined;
      },
    );
    const seen: string[] = [];
    api.onEvent(() => Promise.reject(new Error('onEvent listener failed')));
    api.onEvent((event) => void seen.push(event.type));
    deliver({ type: 'session.archived', sessionId: 'feature--f--dev', at: new Date(0).toISOString() });
    await turn();
    expect(seen).toEqual(['session.archived']);
    expect(loggedErrors()).toEqual(['onEvent listener failed']);
  });

  it('logs the same error of the same listener whole once, then one line at its 10th and 100th time', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    let calls = 0;
    runtime.subscribe(() => {
      calls += 1;
      throw new Error('the dashboard is down');
    });
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'f' });
    for (let i = 0; i < 120; i++) await runtime.addMessage(id, { role: 'user', content: `step ${i}` });
    await runtime.close();
    expect(calls).toBeGreaterThanOrEqual(121);
    expect(loggedErrors()).toEqual(['the dashboard is down']);
    const lines = logged.mock.calls.map(([line]) => String(line));
    expect(lines).toEqual([
      '[dagent-sessions] [runtime] an event listener threw:',
      expect.stringContaining('threw the same error 10 times'),
      expect.stringContaining('threw the same error 100 times'),
    ]);
    expect(lines[2]).toMatch(/: the dashboard is down$/);
  });
});
