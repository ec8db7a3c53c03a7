import { describe, expect, it, vi } from 'vitest';
import { SLOT_COUNTING, sharedCountingWorker } from '../../src/tokens/counting-worker.js';
import {
  BY_TEXT_MAX_CHARS,
  BY_TEXT_TOTAL_CHARS,
  createCountBatcher,
} from '../../src/tokens/count-batcher.js';

/** A batcher whose counts (here: the text's length) are recorded, so that the test sees which texts were counted. */
function counted() {
  const seen: string[] = [];
  const batcher = createCountBatcher('cl100k_base', (text) => {
    seen.push(text);
    return text.length;
  });
  return { batcher, seen };
}

describe('createCountBatcher', () => {
  it('counts a repeated text once, short or long, and keeps texts apart that differ only late', () => {
    const { batcher, seen } = counted();
    const short = 'a reply of a few words ';
    const long = 'x'.repeat(BY_TEXT_MAX_CHARS + 10);
    const longOther = `${'x'.repeat(BY_TEXT_MAX_CHARS + 9)}y`;
    for (const text of [short, long, longOther, short, long, longOther]) batcher.countNow(text);
    // Equal texts made apart (new string objects) are the same text.
    batcher.countNow(['a reply of a few', 'words '].join(' '));
    batcher.countNow(long.slice(0, -1) + 'x');
    expect(seen).toEqual([short, long, longOther]);
    expect(batcher.countNow('')).toBe(0);
  });

  it(`holds at most ${BY_TEXT_TOTAL_CHARS} characters of short texts: the least recently used is counted again`, () => {
    const { batcher, seen } = counted();
    const size = BY_TEXT_MAX_CHARS;
    const text = (i: number) => `${i} `.padEnd(size, '.');
    const fit = BY_TEXT_TOTAL_CHARS / size;
    for (let i = 0; i < fit; i++) batcher.countNow(text(i));
    batcher.countNow(text(0)); // recalled: now the most recently used
    expect(seen).toHaveLength(fit);
    batcher.countNow(text(fit)); // one text too many: text 1, the least recently used, is forgotten
    batcher.countNow(text(0));
    expect(seen).toHaveLength(fit + 1);
    batcher.countNow(text(1));
    expect(seen).toHaveLength(fit + 2);
    expect(seen.at(-1)).toBe(text(1));
  });

  it('sends a text asked for again before its count came once: the callers share its count', async () => {
    const { batcher, seen } = counted();
    const worker = sharedCountingWorker();
    const posted = vi.spyOn(worker, 'count');
    try {
      const a = `the same system reminder ${Math.random()}`;
      const b = `another text ${Math.random()}`;
      const first = [a, b, a].map((text) => batcher.count(text));
      await new Promise((resolve) => setImmediate(resolve)); // the turn's request is posted
      const again = batcher.count(a); // still in flight
      const counts = await Promise.all([...first, again]);
      expect(posted.mock.calls.map(([, texts]) => texts)).toEqual([[a, b]]);
      expect([counts[2], counts[3]]).toEqual([counts[0], counts[0]]);
      expect(seen).toEqual([]); // counted on the worker, not here
      expect(await batcher.count(a)).toBe(counts[0]); // remembered
      expect(posted).toHaveBeenCalledTimes(1);
    } finally {
      posted.mockRestore();
    }
  });

  it('takes a count the worker has taken already from its slot, and has the worker skip one counted here', async () => {
    const { batcher, seen } = counted(); // counts here by length: the worker's counts differ
    const worker = sharedCountingWorker();
    const posted = vi.spyOn(worker, 'count');
    try {
      const [a, b, c] = ['a short tool result', 'the reply after it', 'a third text'].map((words) =>
        `${words} ${Math.random()} `.repeat(3),
      ) as [string, string, string];
      const [countA, countB, countC] = [a, b, c].map((text) => batcher.count(text));
      expect(batcher.countNow(a)).toBe(a.length); // before the turn's request is posted
      await new Promise((resolve) => setImmediate(resolve)); // posted now
      expect(posted).toHaveBeenCalledTimes(1);
      const slots = posted.mock.calls[0]![2]!;
      expect(slots[0]).toBe(-1); // the worker skips a
      // b: counted here, the worker told to skip it, unless the worker has started it already
      // (then its count is waited for) or counted it (then taken from its slot).
      const hereB = await batcher.countNow(b);
      const countedHereB = seen.includes(b);
      expect(Atomics.load(slots, 1)).toBe(countedHereB ? -1 : hereB + 1);
      // c: the worker has counted it (its slot says so) but its answer has not come: taken from there.
      // Blocking here is the point (the answer must not come first); a worker that never counts
      // would block for good, so the wait ends in a failure after a minute.
      for (let waits = 0, slot = 0; (slot = Atomics.load(slots, 2)) <= 0; waits++) {
        if (waits === 12_000) throw new Error('the counting worker never counted the third text');
        Atomics.wait(slots, 2, slot, 5); // 0: not started; SLOT_COUNTING: being counted
      }
      const hereC = batcher.countNow(c);
      expect(hereC).toBe(Atomics.load(slots, 2) - 1);
      expect(hereC).not.toBe(c.length);
      expect(seen).toEqual(countedHereB ? [a, b] : [a]);
      const fromWorker = await posted.mock.results[0]!.value;
      expect(fromWorker[0]).toBe(-1); // skipped: its slot was set before the request was posted
      expect(fromWorker[2]).toBe(hereC);
      expect([await countA, await countB, await countC]).toEqual([a.length, hereB, hereC]);
    } finally {
      posted.mockRestore();
    }
  });

  it('waits for the count of a text the worker is counting, instead of counting it here too', async () => {
    const { batcher, seen } = counted();
    const worker = sharedCountingWorker();
    // The worker's side is played here: it has started the text (its slot says so) and answers later.
    let answer!: (counts: number[]) => void;
    const posted = vi
      .spyOn(worker, 'count')
      .mockImplementation(() => new Promise<number[]>((resolve) => (answer = resolve)));
    try {
      const text = `a tool result being counted ${Math.random()} `.repeat(4);
      const counting = batcher.count(text);
      await new Promise((resolve) => setImmediate(resolve)); // posted now
      const slots = posted.mock.calls[0]![2]!;
      Atomics.store(slots, 0, SLOT_COUNTING);
      const now = batcher.countNow(text);
      expect(now).toBeInstanceOf(Promise);
      expect(seen).toEqual([]); // not counted here
      expect(Atomics.load(slots, 0)).toBe(SLOT_COUNTING); // nor claimed: the worker's count stands
      Atomics.store(slots, 0, 43);
      answer([42]);
      expect([await now, await counting]).toEqual([42, 42]);
      expect(batcher.countNow(text)).toBe(42); // remembered
      expect(seen).toEqual([]);
    } finally {
      posted.mockRestore();
    }
  });
});
