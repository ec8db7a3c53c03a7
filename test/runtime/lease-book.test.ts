import { describe, expect, it } from 'vitest';
import { createLeaseBook, type LeaseEvent } from '../../src/runtime/lease-book.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createLeaseBook', () => {
  it('tells the first lease and the last release, not the calls in between', async () => {
    const told: LeaseEvent[] = [];
    const book = createLeaseBook((event) => told.push(event));
    const a = book.lease('s');
    const b = book.lease('s');
    a();
    b();
    expect(told).toEqual([{ type: 'SESSION.LEASE', sessionId: 's' }]);
    await turn();
    expect(told).toEqual([
      { type: 'SESSION.LEASE', sessionId: 's' },
      { type: 'SESSION.RELEASE', sessionId: 's' },
    ]);
  });

  it('hands the lease over to a call made before the end of the turn (awaited calls one after another)', async () => {
    const told: LeaseEvent[] = [];
    const book = createLeaseBook((event) => told.push(event));
    for (let i = 0; i < 5; i++) {
      const release = book.lease('s');
      await Promise.resolve();
      release();
    }
    await turn();
    expect(told.map((e) => e.type)).toEqual(['SESSION.LEASE', 'SESSION.RELEASE']);
  });

  it('keeps sessions apart, and a second call of a release changes nothing', async () => {
    const told: LeaseEvent[] = [];
    const book = createLeaseBook((event) => told.push(event));
    const a = book.lease('a');
    const b = book.lease('b');
    a();
    a();
    const a2 = book.lease('a');
    await turn();
    expect(book.inUse()).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
    expect(told).toEqual([
      { type: 'SESSION.LEASE', sessionId: 'a' },
      { type: 'SESSION.LEASE', sessionId: 'b' },
    ]);
    a2();
    b();
    await turn();
    expect(told.slice(2)).toEqual([
      { type: 'SESSION.RELEASE', sessionId: 'a' },
      { type: 'SESSION.RELEASE', sessionId: 'b' },
    ]);
  });
});
