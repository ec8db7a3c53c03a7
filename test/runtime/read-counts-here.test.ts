/**
 * A read that waits for the exact counts of acknowledged appends still at the counting worker
 * counts them on its own thread, which is idle meanwhile, each text of a bound up to
 * `READ_COUNTS_HERE` (src/runtime/append-counts.ts), from the last back, `READ_COUNTS_PER_TURN` of
 * them in a turn of the event loop: it answers without the worker. The worker's later answer, the
 * same number, is dropped: one count per message, booked once. The counts asked of the worker are
 * held by the test, so none can come from there meanwhile.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import {
  COUNT_HERE_PER_TURN,
  READ_COUNTS_HERE,
  READ_COUNTS_PER_TURN,
} from '../../src/runtime/append-counts.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { LaterCountOptions, TokenEstimator } from '../../src/tokens/token-estimator.js';
import { heldLaterCounts } from '../helpers/held-counts.js';
import { tempRoot } from '../helpers/temp-root.js';
import { unlessStalled } from '../helpers/unless-stalled.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'read-counts-here' };

/**
 * The default estimator, its counts asked of the worker held; every later count is kept to await,
 * and the messages counted here are listed in the order asked, with the turn of the event loop.
 */
function heldWorker() {
  const held = heldLaterCounts((options?: LaterCountOptions) => options?.countHere === true);
  const later: Promise<number>[] = [];
  const here: { content: unknown; turn: number }[] = [];
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick).unref();
  };
  tick();
  const estimator = new Proxy(held.estimator, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== 'estimateMessageLater' || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const [message, options] = args as [MessageInput, LaterCountOptions | undefined];
        if (options?.countHere === true) here.push({ content: message.content, turn });
        const count = (value as (...a: unknown[]) => Promise<number>).apply(target, args);
        later.push(count);
        return count;
      };
    },
  }) as TokenEstimator;
  return { ...held, estimator, later, here, stopTicking: () => (ticking = false) };
}

/** A runtime with one session, its `COUNTED` events recorded. */
async function countedRuntime(estimator: TokenEstimator) {
  const counted: number[] = [];
  const inspect = (event: InspectionEvent) => {
    if (event.type !== '@xstate.event') return;
    const sent = event.event as { type: string; count?: number };
    if (sent.type === 'COUNTED') counted.push(sent.count ?? 0);
  };
  const runtime = await createSessionRuntime({ root: await tempRoot(), estimator, inspect });
  const { id } = await runtime.createSession(KEY);
  await runtime.addMessage(id, { role: 'user', content: 'first: loads the session' });
  await runtime.estimateSize(id); // its count is in
  counted.length = 0;
  return { runtime, id, counted };
}

const results = (n: number, text: string): MessageInput[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `Result ${i} (${Math.random()}): ${text}` }));

describe('a read counts short pending counts itself', () => {
  it('answers with the exact counts while the worker holds them, and books each count once', async () => {
    const { real, estimator, hold, release, held, later, stopTicking } = heldWorker();
    stopTicking();
    real.estimate('the main thread has its encoder');
    const { runtime, id, counted } = await countedRuntime(estimator);
    const before = await runtime.estimateSize(id);
    const inputs = results(8, 'the build is green again. '.repeat(4));
    const bounds = inputs.map((m) => real.boundMessage(m)!);
    const total = bounds.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(COUNT_HERE_PER_TURN); // asked of the worker...
    expect(total).toBeLessThanOrEqual(READ_COUNTS_PER_TURN); // ...and counted here in one turn
    hold();
    // One turn: one batch, its counts asked of the worker (held), so the replies hold the bounds.
    const replies = await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(replies.map((m) => m.tokens)).toEqual(bounds);
    expect(held()).toBe(inputs.length);
    const exact = inputs.map((m) => real.estimateMessage(m));
    const added = exact.reduce((a, b) => a + b, 0);

    // Before: the read waited for the worker, which never answers while held.
    const size = await unlessStalled(runtime.estimateSize(id), () => held() > 0);
    expect(size).not.toBe('stalled');
    expect(size === 'stalled' ? null : size.breakdown.messages).toBe(before.breakdown.messages + added);
    expect((await runtime.getMessages(id)).slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    expect(counted).toEqual([inputs.length]);

    // The worker answers now: the same counts, dropped; nothing is booked twice.
    release();
    await Promise.all(later);
    const settled = await runtime.estimateSize(id); // waits for any count still being handed over
    expect(settled.breakdown.messages).toBe(before.breakdown.messages + added);
    expect(counted).toEqual([inputs.length]);
    await runtime.addMessage(id, { role: 'assistant', content: 'noted' }); // a turn after
    const after = await runtime.estimateSize(id);
    const noted = real.estimateMessage({ role: 'assistant', content: 'noted' });
    expect(after.breakdown.messages).toBe(before.breakdown.messages + added + noted);
    // Its own count comes with its write or, when the fdatasync ends first, as a COUNTED of one.
    expect([[inputs.length], [inputs.length, 1]]).toContainEqual(counted);
    await runtime.close();

    // On disk, each message has its exact count.
    const reopened = await createSessionRuntime({ root: runtime.root, estimator: real });
    const stored = (await reopened.getMessages(id)).slice(-inputs.length - 1, -1);
    expect(stored.map((m) => m.tokens)).toEqual(exact);
    await reopened.close();
  });

  it('counts many pending texts from the last back, a turn of the event loop at a time', async () => {
    const { real, estimator, hold, release, held, later, here, stopTicking } = heldWorker();
    real.estimate('the main thread has its encoder');
    const { runtime, id } = await countedRuntime(estimator);
    const inputs = results(40, 'a tool result line of a burst. '.repeat(60));
    const bounds = inputs.map((m) => real.boundMessage(m)!);
    const total = bounds.reduce((a, b) => a + b, 0);
    expect(Math.max(...bounds)).toBeLessThanOrEqual(READ_COUNTS_HERE);
    expect(total).toBeGreaterThan(2 * READ_COUNTS_PER_TURN + Math.max(...bounds)); // three turns or more
    hold();
    await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    expect(held()).toBe(inputs.length);
    here.length = 0;
    // Stalled: the worker is held and the read has stopped counting here (before, it counted nothing).
    let asked = -1;
    const quiet = () => {
      const still = here.length === asked;
      asked = here.length;
      return held() > 0 && still;
    };
    const read = await unlessStalled(runtime.getMessages(id), quiet);
    expect(read).not.toBe('stalled');
    const exact = inputs.map((m) => real.estimateMessage(m));
    expect(read === 'stalled' ? null : read.slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    // From the last back, and no more than READ_COUNTS_PER_TURN (and the text that passes it) a turn.
    expect(here.map((h) => h.content)).toEqual(inputs.map((m) => m.content).reverse());
    const perTurn = new Map<number, number>();
    for (const [i, h] of here.entries()) perTurn.set(h.turn, (perTurn.get(h.turn) ?? 0) + bounds.at(-1 - i)!);
    expect(perTurn.size).toBeGreaterThanOrEqual(3);
    for (const bound of perTurn.values())
      expect(bound).toBeLessThan(READ_COUNTS_PER_TURN + Math.max(...bounds));
    stopTicking();
    release();
    await Promise.all(later);
    await runtime.close();
  });

  it('leaves a text of a bound over READ_COUNTS_HERE to the worker', async () => {
    const { real, estimator, hold, release, held, stopTicking } = heldWorker();
    stopTicking();
    real.estimate('the main thread has its encoder');
    const { runtime, id } = await countedRuntime(estimator);
    const inputs = results(1, 'a long tool result line. '.repeat(400));
    expect(real.boundMessage(inputs[0]!)).toBeGreaterThan(READ_COUNTS_HERE);
    hold();
    await Promise.all(inputs.map((m) => runtime.addMessage(id, m)));
    const read = runtime.getMessages(id);
    expect(await unlessStalled(read, () => held() > 0)).toBe('stalled'); // not counted here
    release();
    const exact = inputs.map((m) => real.estimateMessage(m));
    expect((await read).slice(-inputs.length).map((m) => m.tokens)).toEqual(exact);
    await runtime.close();
  });
});
