/**
 * The runtime attaches no XState inspector of its own: its supervisor, and so every session actor
 * and writer of its system, gets one only when the host passes `inspect` (each inspection event
 * costs the main thread on every append). What the runtime learns of its sessions comes from the
 * actors' own snapshots and emitted events, so its events and the supervisor's view of states are
 * as before, for actors spawned later and for those restarted after a crash (docs/architecture.md,
 * "The runtime without inspection (round 13)").
 */
import { describe, expect, it, vi } from 'vitest';
import { createActor, type InspectionEvent } from 'xstate';
import type * as XState from 'xstate';

vi.mock('xstate', async (importOriginal) => {
  const xstate = await importOriginal<typeof XState>();
  return { ...xstate, createActor: vi.fn(xstate.createActor) };
});

import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'runtime-inspection' };

/** The `inspect` option of every actor the runtime created itself (its supervisor). */
function inspectOptions(): unknown[] {
  return vi.mocked(createActor).mock.calls.map(([, options]) => (options as { inspect?: unknown })?.inspect);
}

/** The state changes the runtime published for a session, as `from>to`. */
function statesOf(events: SessionEvent[], sessionId: string): string[] {
  return events.flatMap((e) =>
    e.type === 'session.state.changed' && e.sessionId === sessionId ? [`${e.from}>${e.to}`] : [],
  );
}

describe('the runtime without an inspector of its own', () => {
  it('creates its supervisor without inspect, and still publishes states and appends', async () => {
    vi.mocked(createActor).mockClear();
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    expect(inspectOptions()).toEqual([undefined]);
    const events: SessionEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'one' });
    await runtime.getMessages(id); // the actor has taken the batch by then
    expect(statesOf(events, id)).toEqual([
      'closed>loading',
      'loading>idle',
      'idle>appending',
      'appending>idle',
    ]);
    expect(events.filter((e) => e.type === 'session.message.appended').map((e) => e.sessionId)).toEqual([id]);
    await runtime.close();
  });

  it("passes a host's inspect on, and follows an actor restarted after a crash", async () => {
    vi.mocked(createActor).mockClear();
    let armed = false;
    const seen = new Set<string>();
    const inspect = (event: InspectionEvent) => {
      seen.add(event.type);
      if (!armed || event.type !== '@xstate.microstep' || event.event.type !== 'COMPACT') return;
      if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
      armed = false;
      throw new Error('injected crash'); // the session actor stops with this error
    };
    const runtime = await createSessionRuntime({ root: await tempRoot(), inspect });
    expect(inspectOptions()).toEqual([inspect]);
    const events: SessionEvent[] = [];
    runtime.subscribe((event) => events.push(event));
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, { role: 'user', content: 'before' });
    expect([...seen]).toEqual(
      expect.arrayContaining(['@xstate.snapshot', '@xstate.microstep', '@xstate.event']),
    );
    await runtime.getMessages(id); // the actor has taken the batch by then
    const before = statesOf(events, id).length;
    armed = true;
    await expect(runtime.compact(id)).rejects.toMatchObject({ code: 'SESSION_UNAVAILABLE' });
    // The fresh actor's states are published as the first one's were.
    await runtime.addMessage(id, { role: 'user', content: 'after' });
    await runtime.getMessages(id);
    expect(statesOf(events, id).slice(before)).toEqual([
      'idle>loading',
      'loading>idle',
      'idle>appending',
      'appending>idle',
    ]);
    await runtime.close();
  });
});
