/**
 * Where an append's exact count is taken (src/runtime/append-counts.ts): the few short texts of a
 * turn on the main thread while their write's fdatasync runs, so that the write takes the count
 * whatever the counting worker is doing; a turn with more (a burst) on the worker, so that the main
 * thread is not held. The counting worker is kept busy with a long text meanwhile, so that no
 * count can come from it in time.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { COUNT_HERE_PER_TURN } from '../../src/runtime/append-counts.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { sharedCountingWorker } from '../../src/tokens/counting-worker.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'append-counts' };
const estimator = createTokenEstimator();

/** A runtime whose session events (other than its own effects') are recorded while `on`. */
async function recordedRuntime() {
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
  return { runtime, id, seen };
}

/** Keeps the counting worker busy (a few hundred ms): its answers to appends come late. */
async function busyWorker(): Promise<Promise<number[]>> {
  const worker = sharedCountingWorker();
  await worker.count('cl100k_base', ['loads the encoding on the worker']);
  // Words that do not repeat (the tokenizer remembers the pieces it merged): a second or two of counting.
  let seed = 7;
  const letter = () => String.fromCharCode(97 + ((seed = (seed * 48271) % 2147483647) % 26));
  const words = Array.from({ length: 20_000 }, () => Array.from({ length: 6 }, letter).join('')).join(' ');
  return worker.count('cl100k_base', [words]);
}

describe('append counts', () => {
  it('counts a short append on the main thread during its fdatasync: the write takes the exact count', async () => {
    const { runtime, id, seen } = await recordedRuntime();
    estimator.estimate('the main thread has its encoder');
    const inputs: MessageInput[] = Array.from({ length: 6 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `Step ${i} (${Math.random()}): the tests pass, moving on to the next file.`,
    }));
    const busy = await busyWorker();
    seen.on = true;
    for (const input of inputs) {
      expect(estimator.boundMessage(input)!).toBeLessThanOrEqual(COUNT_HERE_PER_TURN);
      const message = await runtime.addMessage(id, input);
      // The reply holds the exact count (the bound is larger): it was known when the write was durable.
      expect(message.tokens).toBe(estimator.estimateMessage(input));
      expect(estimator.boundMessage(input)).toBeGreaterThan(message.tokens);
    }
    seen.on = false;
    // One event an append: no COUNTED followed.
    expect(seen.events).toEqual(inputs.map(() => 'APPEND'));
    await busy;
    await runtime.close();
  });

  it('sends a turn of appends past the budget to the worker, and reads wait for their exact counts', async () => {
    const { runtime, id, seen } = await recordedRuntime();
    const inputs: MessageInput[] = Array.from({ length: 8 }, (_, i) => ({
      role: 'user',
      content: `Result ${i} (${Math.random()}): ${'the build is green again. '.repeat(4)}`,
    }));
    const bounds = inputs.map((m) => estimator.boundMessage(m)!);
    expect(bounds.reduce((a, b) => a + b, 0)).toBeGreaterThan(COUNT_HERE_PER_TURN);
    const busy = await busyWorker();
    seen.on = true;
    // One turn: one batch, counted on the busy worker, so the replies hold the bounds.
    const replies = await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(replies.map((m) => m.tokens)).toEqual(bounds);
    // A read waits for the worker's counts and sees the exact ones.
    const stored = (await runtime.getMessages(id)).slice(-inputs.length);
    expect(stored.map((m) => m.tokens)).toEqual(inputs.map((m) => estimator.estimateMessage(m)));
    seen.on = false;
    expect(seen.events).toEqual(['APPEND.MANY', 'COUNTED']);
    await busy;
    await runtime.close();
  });
});
