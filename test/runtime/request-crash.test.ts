/**
 * A request to a session's actor (an append, a compaction) waits for its reply; if the actor
 * crashes first, the caller hears `SESSION_UNAVAILABLE` (retryable) instead of waiting forever, and
 * the next call reaches the actor the supervisor loaded afresh. Requests one after another on one
 * actor share one watch of it (session-access.ts), so one that crashes must still reach each.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'request-crash' };

/** An inspector that makes the session actor crash while it takes the next `COMPACT`. */
function crashOnCompact() {
  let armed = false;
  const inspect = (event: InspectionEvent) => {
    if (!armed || event.type !== '@xstate.microstep' || event.event.type !== 'COMPACT') return;
    if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
    armed = false;
    // Thrown inside the actor's step: XState stops the actor with this error.
    throw new Error('injected crash');
  };
  return { inspect, arm: () => (armed = true) };
}

describe('a request whose session actor crashes before answering', () => {
  it('is reported as SESSION_UNAVAILABLE, and the next calls reach a fresh actor', async () => {
    const { inspect, arm } = crashOnCompact();
    const runtime = await createSessionRuntime({ root: await tempRoot(), inspect });
    const { id } = await runtime.createSession(KEY);
    // Several requests on the same actor before the crash.
    for (let i = 0; i < 3; i++) await runtime.addMessage(id, { role: 'user', content: `before ${i}` });
    arm();
    await expect(runtime.compact(id)).rejects.toMatchObject({ code: 'SESSION_UNAVAILABLE', retryable: true });
    // Reloaded from disk: every acknowledged message is there, and appends go on.
    const after = await runtime.addMessage(id, { role: 'user', content: 'after' });
    expect(after.seq).toBe(3);
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual([
      'before 0',
      'before 1',
      'before 2',
      'after',
    ]);
    await runtime.close();
  });
});
