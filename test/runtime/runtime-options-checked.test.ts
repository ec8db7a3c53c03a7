/**
 * `createSessionRuntime` checks the host's hooks and timings before it opens anything: a bad one is
 * refused with `INVALID_ARGUMENT` naming it, and the root stays free. Before, XState took them at
 * first use: a clock without `setTimeout` threw on no caller's path and ended the process, a bad
 * `inspect` threw XState's own TypeError after the root's lock was taken (held until the process
 * ended), so did a bad `estimator` or `calibration`, and a duration past a Node timer's range
 * fired at once.
 */
import { readdir } from 'node:fs/promises';
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntimeOptions } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';

const refused: [string, Record<string, unknown>, RegExp][] = [
  ['a clock without setTimeout', { clock: {} }, /clock must be an object with setTimeout and clearTimeout/],
  ['a number as the clock', { clock: 5 }, /clock must be .*, got 5/],
  ['a string as inspect', { inspect: 'x' }, /inspect must be a function or an observer with next/],
  ['an observer whose next is no function', { inspect: { next: 'y' } }, /inspect must be/],
  ['now as a Date', { now: new Date(0) }, /now must be a function returning a Date/],
  ['supervisor as a string', { supervisor: 'x' }, /supervisor must be an object, got "x"/],
  ['supervisor as null', { supervisor: null }, /supervisor must be an object, got null/],
  ['a function as the clock', { clock: () => 0 }, /clock must be .*, got a function$/],
  ['a negative maxActive', { supervisor: { maxActive: -1 } }, /supervisor.maxActive must be an integer ≥ 0/],
  [
    'a sweep interval in words',
    { supervisor: { sweepIntervalMs: 'soon' } },
    /supervisor.sweepIntervalMs must be/,
  ],
  ['a sweep interval past a timer', { supervisor: { sweepIntervalMs: 2 ** 31 } }, /from 1 to 2147483647/],
  [
    'a fractional idleSweeps',
    { supervisor: { idleSweeps: 1.5 } },
    /supervisor.idleSweeps must be an integer ≥ 1/,
  ],
  ['a compaction timeout of NaN', { compaction: { timeoutMs: Number.NaN } }, /compaction.timeoutMs must be/],
  ['an endless retry base', { compaction: { retryBaseMs: Infinity } }, /compaction.retryBaseMs must be/],
  ['a number as the estimator', { estimator: 5 }, /estimator must be a TokenEstimator/],
  [
    'an estimator without estimateMessage',
    { estimator: { estimate: () => 1 } },
    /its estimateContent is not a function/,
  ],
  [
    'a compactor without compact',
    { compactor: { name: 'mine' } },
    /compactor must be a Compactor.*its compact is not a function/,
  ],
  // Without a name every compaction failed COMPACTOR_MALFORMED (the checkpoint refused for its
  // compactor name) and the session retried for ever; without maxInputTokens it never chunked.
  [
    'a compactor without a name',
    { compactor: { maxInputTokens: 100_000, compact: async () => ({}) } },
    /compactor must be a Compactor.*its name is not a non-empty string/,
  ],
  [
    'a compactor without maxInputTokens',
    { compactor: { name: 'mine', compact: async () => ({}) } },
    /compactor must be a Compactor.*its maxInputTokens is not a number above 0/,
  ],
  [
    'a compactor whose maxInputTokens is NaN',
    { compactor: { name: 'mine', maxInputTokens: Number.NaN, compact: async () => ({}) } },
    /its maxInputTokens is not a number above 0/,
  ],
  ['a number as the calibration', { calibration: 5 }, /calibration must be a TokenCalibration/],
  ['a string as the client', { client: 'sk-…' }, /client must be an Anthropic client/],
  ['an empty model name', { model: '' }, /model must be a model name/],
  [
    'a misspelt option',
    { limts: { maxTokens: 5_000 } },
    /"limts" is not an option; the options are root, store, limits, /,
  ],
];

describe('createSessionRuntime checks its hooks and timings first', () => {
  it.each(refused)('refuses %s, naming it, and leaves the root free', async (_, bad, message) => {
    const root = await tempRoot();
    await expect(
      createSessionRuntime({ root, ...(bad as Partial<SessionRuntimeOptions>) }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
    expect(await readdir(root)).toEqual([]); // nothing opened, no lock
    const runtime = await createSessionRuntime({ root });
    await runtime.close();
  });

  it('takes the edge values: no cap, zero, null or no next, a SimulatedClock, an unknown name undefined', async () => {
    const root = await tempRoot();
    for (const options of [
      { supervisor: { maxActive: Infinity, idleSweeps: Infinity, maxRestarts: 0 } },
      { supervisor: { maxActive: 0, sweepIntervalMs: 2 ** 31 - 1 }, compaction: { retryBaseMs: 0 } },
      { inspect: null as never, now: () => new Date(0) },
      { inspect: {}, clock: new SimulatedClock() },
      { ...({ noSuchOption: undefined } as object) }, // an undefined value says nothing
    ] satisfies Partial<SessionRuntimeOptions>[]) {
      const runtime = await createSessionRuntime({ root, ...options });
      const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'f' });
      await runtime.addMessage(id, { role: 'user', content: 'kept' });
      await runtime.close();
    }
  });
});
