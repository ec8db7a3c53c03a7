/**
 * An append's caller is answered once its batch is durable, and the session actor takes the batch
 * at the end of that turn of the event loop, or as soon as someone waits for it: a read or a
 * request made by a caller that resumed takes it at once instead of waiting for the rest of the
 * turn (docs/architecture.md, "Answered once durable"). Checked with the turn's end held back
 * (`setImmediate` callbacks kept until the test lets them go) against a message sent through a
 * `MessageChannel`, which arrives in a later task whatever the turn holds: what the caller asked
 * for must be done in the microtasks of its own turn, before that message.
 */
import { MessageChannel } from 'node:worker_threads';
import type { InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'booking-taken' };
// Counted on the caller's path: no count waits for a later task.
const estimator = createTokenEstimator({ mode: 'approximate' });
const text = (i: number): MessageInput => ({ role: 'user', content: `Message ${i}: `.repeat(30) });

/** Holds every `setImmediate` callback from `hold()` until `release()`. */
function immediates() {
  const original = globalThis.setImmediate;
  const held: (() => void)[] = [];
  let holding = false;
  globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (!holding) return original(callback, ...args);
    held.push(() => callback(...args));
    return undefined as unknown as NodeJS.Immediate;
  }) as typeof setImmediate;
  const release = () => {
    holding = false;
    held.splice(0).forEach((run) => original(run));
  };
  return {
    hold: () => {
      holding = true;
    },
    held: () => held.length,
    release,
    restore: () => {
      release();
      globalThis.setImmediate = original;
    },
  };
}

/** Resolves with `'later task'` once a message sent now through a channel arrives. */
function laterTask(): Promise<'later task'> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.once('message', () => {
      port1.close();
      resolve('later task');
    });
    port2.postMessage(null);
  });
}

let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('the bookkeeping of a durable batch', () => {
  it('is taken by a read made as the caller resumes, in the same turn', async () => {
    const turn = immediates();
    restore = turn.restore;
    const runtime = await createSessionRuntime({ root: await tempRoot(), estimator });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, text(0));
    await runtime.estimateSize(id);
    for (let i = 1; i <= 3; i++) {
      turn.hold();
      await runtime.addMessage(id, text(i));
      expect(turn.held()).toBeGreaterThan(0); // the end of the turn is held back
      const read = runtime.estimateSize(id);
      const first = await Promise.race([read.then(() => 'read'), laterTask()]);
      turn.release();
      expect(first).toBe('read');
      expect((await read).liveMessages).toBe(i + 1);
    }
    await runtime.close();
  });

  it('is taken by the next append of a caller that resumed, in the same turn', async () => {
    const turn = immediates();
    restore = turn.restore;
    const taken: number[] = [];
    const inspect = (event: InspectionEvent) => {
      if (event.type !== '@xstate.event') return;
      if (!String((event.actorRef as { id?: string }).id).startsWith('session:')) return;
      if (event.event.type === 'PERSIST.DONE') taken.push(taken.length);
    };
    const runtime = await createSessionRuntime({ root: await tempRoot(), estimator, inspect });
    const { id } = await runtime.createSession(KEY);
    await runtime.addMessage(id, text(0));
    for (let i = 1; i <= 3; i++) {
      turn.hold();
      await runtime.addMessage(id, text(i));
      const before = taken.length;
      const next = runtime.addMessage(id, text(100 + i));
      await laterTask();
      const tookIt = taken.length > before;
      turn.release();
      expect(tookIt).toBe(true);
      expect((await next).seq).toBe(2 * i);
    }
    expect((await runtime.estimateSize(id)).liveMessages).toBe(7);
    await runtime.close();
  });
});
