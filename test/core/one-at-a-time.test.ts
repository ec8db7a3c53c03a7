import { describe, expect, it } from 'vitest';
import { createOneAtATime } from '../../src/core/one-at-a-time.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createOneAtATime', () => {
  it('starts each operation only when the one before has settled, in call order, whatever the I/O order', async () => {
    const queue = createOneAtATime();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((gate, i) =>
      queue(async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
        return i;
      }),
    );
    await Promise.resolve();
    expect(log).toEqual(['start 0']);
    // The last one is ready first: it still waits for the two before it.
    gates[2]!.resolve();
    gates[1]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start 0']);
    gates[0]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a failure is its own caller’s: the next operation still runs, after it', async () => {
    const queue = createOneAtATime();
    const gate = deferred();
    const failing = queue(async () => {
      await gate.promise;
    });
    const next = queue(async () => 'next');
    gate.reject(new Error('disk full'));
    await expect(failing).rejects.toThrow('disk full');
    await expect(next).resolves.toBe('next');
    await expect(queue(() => Promise.reject(new Error('again')))).rejects.toThrow('again');
    await expect(queue(async () => 'still')).resolves.toBe('still');
  });
});
