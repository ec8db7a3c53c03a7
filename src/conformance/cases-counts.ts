/**
 * @internal Conformance cases on token counts: a stored message holds a valid count, an uncounted
 * append holds its bound until its count is recorded and never hands it out as a count, and counts
 * that are none are refused before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { ID, message, messages } from './fixtures.js';
import { expectCode, seqs, type Harness } from './harness.js';

/** @internal Registers the token count cases; `h()` is the current case's harness. */
export function countCases(h: () => Harness): void {
  describe('token counts', () => {
    it('refuses a message without a valid token count (INVALID_MESSAGE), writing nothing', async () => {
      await h().create();
      await h().store.append(ID, messages(0, 2));
      for (const tokens of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
        const error = await expectCode(
          h().store.append(ID, [message(2, `tokens ${String(tokens)}`, { tokens })]),
          'INVALID_MESSAGE',
        );
        expect((error as Error).message).toContain('"tokens"');
      }
      // Nothing of them was kept: the seq is free, and the session loads as acknowledged.
      await h().store.append(ID, [message(2)]);
      const store = h().capabilities.persistent ? await h().reopen() : h().store;
      expect((await store.load(ID)).messages).toEqual(messages(0, 3));
    });

    it('refuses uncounted seqs not appended (INVALID_MESSAGE), counts that are none (INVALID_ARGUMENT)', async () => {
      const store = h().store;
      if (store.recordCounts === undefined) return; // the store takes exact counts only
      await h().create();
      await store.append(ID, [message(0), message(1, 'bound', { tokens: 90 })], { uncounted: [1] });
      await expectCode(store.append(ID, [message(2)], { uncounted: [7] }), 'INVALID_MESSAGE');
      await expectCode(store.append(ID, [message(2)], { uncounted: [0] }), 'INVALID_MESSAGE');
      for (const tokens of [Number.NaN, -5, Number.POSITIVE_INFINITY])
        await expectCode(store.recordCounts(ID, [{ seq: 1, tokens }]), 'INVALID_ARGUMENT');
      await expectCode(store.recordCounts(ID, [{ seq: 1.5, tokens: 3 }]), 'INVALID_ARGUMENT');
      // A count for a message that is counted already changes nothing.
      await store.recordCounts(ID, [{ seq: 0, tokens: 99 }]);
      await store.append(ID, [message(2)]); // seq 2 is counted: no uncounted seq 7 or 0 was kept
      const head = await store.load(ID);
      // Seq 1's tokens is a bound: the one appended, or one the store derives from its content.
      expect(seqs(head.messages)).toEqual([0, 1, 2]);
      expect([head.messages[0]!.tokens, head.messages[2]!.tokens]).toEqual([
        message(0).tokens,
        message(2).tokens,
      ]);
      expect([...(head.uncounted ?? [])]).toEqual([1]);
      const after = h().capabilities.persistent ? await (await h().reopen()).load(ID) : head;
      expect(seqs(after.messages)).toEqual([0, 1, 2]);
      expect([after.messages[0]!.tokens, after.messages[2]!.tokens]).toEqual([
        message(0).tokens,
        message(2).tokens,
      ]);
      expect([...(after.uncounted ?? [])]).toEqual([1]);
    });

    // A store with recordCounts takes messages whose tokens are an upper bound (counted later):
    // it may hold a bound, and says so (head.uncounted), but never hands a bound out as a count.
    it('an uncounted append holds its bound until its count is recorded, never as a count', async () => {
      const store = h().store;
      if (store.recordCounts === undefined) return; // the store takes exact counts only
      await h().create();
      await store.append(ID, [message(0, 'bound 0', { tokens: 90 }), message(1, 'bound 1', { tokens: 80 })], {
        uncounted: [0, 1],
      });
      await store.recordCounts(ID, [{ seq: 0, tokens: 7 }]);
      await store.append(ID, [message(2, 'counted', { tokens: 5 })]);
      const head = await store.load(ID);
      // Seq 1's tokens is a bound: the one appended, or one the store derives from its content.
      expect([head.messages[0]!.tokens, head.messages[2]!.tokens]).toEqual([7, 5]);
      expect([...(head.uncounted ?? [])]).toEqual([1]);
      const after = h().capabilities.persistent ? await (await h().reopen()).load(ID) : head;
      expect(after.messages[0]!.tokens).toBe(7);
      expect(after.messages[2]!.tokens).toBe(5);
      expect([...(after.uncounted ?? [])]).toEqual([1]); // still not a count after a restart
      await h().store.recordCounts!(ID, [{ seq: 1, tokens: 4 }]);
      const counted = await h().store.load(ID);
      expect(counted.messages.map((m) => m.tokens)).toEqual([7, 4, 5]);
      expect([...(counted.uncounted ?? [])]).toEqual([]);
    });
  });
}
