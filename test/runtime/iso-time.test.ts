/**
 * The runtime's timestamps (`createIsoTime`) are the strings `toISOString` gives: a message's
 * timestamp is stored, hashed and compared, so one character of difference would change history.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIsoTime } from '../../src/runtime/iso-time.js';

describe('createIsoTime', () => {
  it('gives what toISOString gives, for dates in any order and any year', () => {
    const dates = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }), // every valid Date, years -271821 to 275760
      fc.integer({ min: Date.UTC(1969, 11, 31), max: Date.UTC(2100, 0, 1) }), // around now, and 1970
    );
    fc.assert(
      fc.property(fc.array(dates, { minLength: 1, maxLength: 40 }), (times) => {
        const iso = createIsoTime();
        for (const t of times) expect(iso(new Date(t))).toBe(new Date(t).toISOString());
      }),
      { numRuns: 300 },
    );
  });

  it('gives it for each millisecond of a minute formatted before, and across minutes', () => {
    const iso = createIsoTime();
    const start = Date.UTC(2026, 11, 1, 0, 59, 0);
    for (let t = start - 1_500; t < start + 61_500; t += 7) {
      expect(iso(new Date(t))).toBe(new Date(t).toISOString());
      expect(iso(new Date(t - 60_000))).toBe(new Date(t - 60_000).toISOString()); // the minute before
    }
    for (let t = -2_000; t < 2_000; t++) expect(iso(new Date(t))).toBe(new Date(t).toISOString()); // 1970
  });

  it('throws as toISOString does for an invalid date', () => {
    const iso = createIsoTime();
    iso(new Date(0));
    expect(() => iso(new Date(Number.NaN))).toThrow(RangeError);
  });
});
