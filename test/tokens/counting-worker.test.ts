/**
 * The counting worker counts exactly as the main thread does, and while it counts, the main
 * thread's event loop keeps running.
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContentBlock } from '../../src/core/types.js';
import { createCountingWorker } from '../../src/tokens/counting-worker.js';
import { getEncoder } from '../../src/tokens/encoding-cache.js';
import { countExact } from '../../src/tokens/exact-count.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';

const worker = createCountingWorker({ idleMs: 60_000 });
afterAll(() => worker.close());

async function transcriptText(): Promise<string> {
  const dir = path.resolve('../shared/transcripts');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  const texts = await Promise.all(names.slice(0, 3).map((n) => readFile(path.join(dir, n), 'utf8')));
  return texts.join('\n') || 'fallback text without transcripts '.repeat(20_000);
}

describe('createCountingWorker', () => {
  it(
    'counts exactly as countExact on the main thread: ' +
      'generated texts, special tokens, long runs, real transcripts',
    async () => {
      const encoder = getEncoder('cl100k_base');
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              fc.string({ unit: 'grapheme', maxLength: 300 }),
              fc.string({ unit: 'binary', maxLength: 300 }),
              fc.constantFrom(
                '<|endoftext|>',
                '',
                ' ',
                'x'.repeat(5_000),
                '\n\n\t  '.repeat(400),
                '🙂'.repeat(900),
              ),
            ),
            { maxLength: 8 },
          ),
          async (texts) => {
            expect(await worker.count('cl100k_base', texts)).toEqual(
              texts.map((t) => countExact(encoder, t)),
            );
          },
        ),
        { numRuns: 60 },
      );
      const real = await transcriptText();
      const slices = [real.slice(0, 200_000), real.slice(200_000, 260_000)];
      expect(await worker.count('cl100k_base', slices)).toEqual(slices.map((t) => countExact(encoder, t)));
      const o200k = getEncoder('o200k_base');
      expect(await worker.count('o200k_base', [slices[1]!])).toEqual([countExact(o200k, slices[1]!)]);
    },
  );

  it("skips a text whose slot is -1, answering -1 for it, and stores count + 1 in the others' slots", async () => {
    const encoder = getEncoder('cl100k_base');
    const texts = ['counted on the worker', 'counted by the caller meanwhile', 'counted too'];
    const slots = new Int32Array(new SharedArrayBuffer(4 * texts.length));
    Atomics.store(slots, 1, -1);
    const counts = [countExact(encoder, texts[0]!), -1, countExact(encoder, texts[2]!)];
    expect(await worker.count('cl100k_base', texts, slots)).toEqual(counts);
    expect(Array.from(slots)).toEqual([counts[0]! + 1, -1, counts[2]! + 1]);
    await expect(worker.count('cl100k_base', texts, new Int32Array(2))).rejects.toThrow(/slot per text/);
  });

  it('keeps the event loop running while it counts (a timer fires before the count is back)', async () => {
    const text = (await transcriptText()).slice(0, 400_000);
    const order: string[] = [];
    const counting = worker.count('cl100k_base', [text]).then(() => order.push('counted'));
    await new Promise((resolve) => setImmediate(resolve));
    order.push('event loop turned');
    await counting;
    expect(order).toEqual(['event loop turned', 'counted']);
  });

  it('says whether its thread has an encoding loaded, asking it to load it once, and forgets at close()', async () => {
    const w = createCountingWorker();
    expect(w.ready('cl100k_base')).toBe(false); // starts the thread and asks it to load cl100k_base
    expect(w.ready('cl100k_base')).toBe(false); // asked already: no second request
    expect(await w.count('cl100k_base', ['hello world'])).toEqual([2]); // answered after the load
    expect(w.ready('cl100k_base')).toBe(true);
    expect(w.ready('o200k_base')).toBe(false);
    await w.close();
    expect(w.ready('cl100k_base')).toBe(false); // a new thread, which loads it again
    expect(await w.count('cl100k_base', ['hello'])).toEqual([1]);
    expect(w.ready('cl100k_base')).toBe(true);
    await w.close();
  });

  it('refuses bad requests, and starts again after close()', async () => {
    const w = createCountingWorker();
    await expect(w.count('p50k_base' as 'cl100k_base', ['x'])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(w.count('cl100k_base', [1 as unknown as string])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const inFlight = expect(w.count('cl100k_base', ['word '.repeat(200_000)])).rejects.toMatchObject({
      code: 'IO_ERROR',
    });
    await w.close();
    await inFlight;
    expect(await w.count('cl100k_base', ['hello world'])).toEqual([2]);
    await w.close();
    expect(() => createCountingWorker({ idleMs: 0 })).toThrow(/idleMs/);
  });
});

describe('TiktokenEstimator.estimateMessageAsync', () => {
  it('equals estimateMessage for strings and block lists, counted on the worker past offThreadChars', async () => {
    const estimator = createTokenEstimator({ offThreadChars: 0 });
    const real = (await transcriptText()).slice(0, 50_000);
    const blocks: ContentBlock[] = [
      { type: 'text', text: real.slice(0, 20_000) },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: real.slice(20_000, 21_000) } },
      { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: real.slice(21_000) }] },
      { type: 'thinking', thinking: 'so that is it', signature: 'sig' },
    ];
    for (const content of [real, blocks, '', [{ type: 'text', text: '' }] as ContentBlock[]]) {
      const message = { role: 'user' as const, content };
      expect(await estimator.estimateMessageAsync(message)).toBe(estimator.estimateMessage(message));
    }
    const approximate = createTokenEstimator({ mode: 'approximate', offThreadChars: 0 });
    expect(await approximate.estimateMessageAsync({ role: 'user', content: real })).toBe(
      approximate.estimateMessage({ role: 'user', content: real }),
    );
    expect(() => createTokenEstimator({ offThreadChars: -1 })).toThrow(/offThreadChars/);
  });
});
