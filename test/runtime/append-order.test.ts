import { describe, expect, it } from 'vitest';
import { createAppendOrder } from '../../src/runtime/idempotency.js';

/** Resolves once the microtasks queued so far (and those they queue) have run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createAppendOrder', () => {
  it('gives a call its turn at once, without a promise, when no earlier call of the session is pending', () => {
    const take = createAppendOrder();
    const first = take('s');
    expect(first.turn).toBeNull();
    first.release();
    // Released: the next call finds nobody before it.
    expect(take('s').turn).toBeNull();
    // Another session has its own order.
    expect(take('t').turn).toBeNull();
  });

  it('makes a later call wait until every earlier one has released its slot, in call order', async () => {
    const take = createAppendOrder();
    const order: string[] = [];
    const a = take('s');
    const b = take('s');
    const c = take('s');
    expect(a.turn).toBeNull();
    expect(b.turn).not.toBeNull();
    void b.turn!.then(() => order.push('b'));
    void c.turn!.then(() => order.push('c'));
    await settle();
    expect(order).toEqual([]);
    a.release();
    await settle();
    expect(order).toEqual(['b']); // c waits for b's release
    b.release();
    await settle();
    expect(order).toEqual(['b', 'c']);
    c.release();
    expect(take('s').turn).toBeNull();
  });

  it('passes the turn on past a call that gave up its place before its turn came', async () => {
    const take = createAppendOrder();
    const a = take('s');
    const b = take('s');
    const c = take('s');
    let cTurn = false;
    void c.turn!.then(() => (cTurn = true));
    b.release(); // gives up its place (a duplicate idempotency key) while a still holds its own
    b.release(); // twice is harmless
    await settle();
    expect(cTurn).toBe(false);
    a.release();
    await settle();
    expect(cTurn).toBe(true);
    c.release();
    expect(take('s').turn).toBeNull();
  });

  it('keeps a slot taken while an earlier one is held waiting, even after that one is released', async () => {
    const take = createAppendOrder();
    const a = take('s');
    const b = take('s');
    a.release();
    // b's turn has come but b has not released: a new call still waits for b.
    const c = take('s');
    expect(c.turn).not.toBeNull();
    let cTurn = false;
    void c.turn!.then(() => (cTurn = true));
    await b.turn;
    await settle();
    expect(cTurn).toBe(false);
    b.release();
    await settle();
    expect(cTurn).toBe(true);
  });
});
