/**
 * Where an append's exact count is taken (src/runtime/append-counts.ts): the few short texts of a
 * turn on the main thread while their write's fdatasync runs, so that no read waits for the counting
 * worker (and the write usually takes the count); a turn with more (a burst) on the worker, so that
 * the main thread is not held. The counts asked of the worker are held by the test until it
 * releases them, so that none can come from there meanwhile.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { COUNT_HERE_PER_TURN } from '../../src/runtime/append-counts.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { LaterCountOptions, TokenEstimator } from '../../src/tokens/token-estimator.js';
import { heldLaterCounts } from '../helpers/held-counts.js';
import { tempRoot } from '../helpers/temp-root.js';

/** The default estimator, whose counts asked of the worker (not `countHere`) wait for `release`. */
const heldWorker = () => heldLaterCounts((options?: LaterCountOptions) => options?.countHere === true);

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'append-counts' };

/** A runtime whose session events (other than its own effects') are recorded while `on`. */
async function recordedRuntime(estimator: TokenEstimator) {
  const seen = { on: false, events: [] as string[] };
  const inspect = (event: InspectionEvent) => {
    if (!seen.on || event.type !== '@xstate.event') return;
    if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
    const type = (event.event as { type: string }).type;
    if (!type.startsWith('xstate.') && !type.startsWith('PERSIST')) seen.events.push(type);
  };
  const runtime = await createSessionRuntime({ root: await tempRoot(), estimator, inspect });
  const { id } = await runtime.createSession(KEY);
  await runtime.addMessage(id, { role: 'user', content: 'first: loads the session' });
  await runtime.estimateSize(id); // its count is in
  return { runtime, id, seen };
}

describe('append counts', () => {
  it('counts short appends on the main thread, not on the worker: reads never wait for it', async () => {
    const { real, estimator, hold, release, held } = heldWorker();
    const { runtime, id } = await recordedRuntime(estimator);
    real.estimate('the main thread has its encoder');
    const inputs: MessageInput[] = Array.from({ length: 6 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `Step ${i} (${Math.random()}): the tests pass, moving on to the next file.`,
    }));
    hold();
    for (const input of inputs) {
      expect(real.boundMessage(input)!).toBeLessThanOrEqual(COUNT_HERE_PER_TURN);
      const message = await runtime.addMessage(id, input);
      // Exact when the count was in before the write was durable (usually), else the bound.
      expect([real.estimateMessage(input), real.boundMessage(input)]).toContain(message.tokens);
    }
    // No count was asked of the worker (held: it would never answer), so a read has every exact count.
    expect(held()).toBe(0);
    const stored = (await runtime.getMessages(id)).slice(-inputs.length);
    expect(stored.map((m) => m.tokens)).toEqual(inputs.map((m) => real.estimateMessage(m)));
    release();
    await runtime.close();
  });

  it('sends a turn of appends past the budget to the worker, and reads see their exact counts', async () => {
    const { real, estimator, hold, release } = heldWorker();
    const { runtime, id, seen } = await recordedRuntime(estimator);
    const inputs: MessageInput[] = Array.from({ length: 8 }, (_, i) => ({
      role: 'user',
      content: `Result ${i} (${Math.random()}): ${'the build is green again. '.repeat(4)}`,
    }));
    const bounds = inputs.map((m) => real.boundMessage(m)!);
    expect(bounds.reduce((a, b) => a + b, 0)).toBeGreaterThan(COUNT_HERE_PER_TURN);
    hold();
    seen.on = true;
    // One turn: one batch, its counts asked of the worker (held), so the replies hold the bounds.
    const replies = await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(replies.map((m) => m.tokens)).toEqual(bounds);
    // A read sees the exact counts (short: it counts them itself, read-counts-here.test.ts).
    const read = runtime.getMessages(id);
    release();
    const stored = (await read).slice(-inputs.length);
    expect(stored.map((m) => m.tokens)).toEqual(inputs.map((m) => real.estimateMessage(m)));
    seen.on = false;
    expect(seen.events).toEqual(['APPEND.MANY', 'COUNTED']);
    await runtime.close();
  });
});
