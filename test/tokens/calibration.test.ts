import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenCalibration } from '../../src/tokens/calibration.js';

describe('TokenCalibration', () => {
  it('starts at 1, takes the first ratio, then smooths towards new ones', () => {
    const c = new TokenCalibration({ smoothing: 0.5 });
    expect(c.correct('m', 1_000)).toBe(1_000);
    c.observe('m', 1_000, 1_200);
    expect(c.factor('m')).toBeCloseTo(1.2);
    c.observe('m', 1_000, 1_100);
    expect(c.factor('m')).toBeCloseTo(1.15);
    expect(c.correct('m', 2_000)).toBe(2_300);
    expect(c.correct('other', 2_000)).toBe(2_000);
    expect(c.state('m')).toMatchObject({ samples: 2 });
  });

  it('ignores nonsense and tiny requests, and stays within its bounds', () => {
    const c = new TokenCalibration();
    c.observe('m', 0, 100);
    c.observe('m', 10, 100);
    c.observe('m', Number.NaN, 100);
    c.observe('m', 1_000, -5);
    expect(c.state('m').samples).toBe(0);
    c.observe('m', 1_000, 1_000_000);
    expect(c.factor('m')).toBe(2);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 1e7 }), fc.double({ min: -10, max: 1e7 }))),
        (observations) => {
          const k = new TokenCalibration();
          for (const [e, a] of observations) k.observe('x', e, a);
          expect(k.factor('x')).toBeGreaterThanOrEqual(0.5);
          expect(k.factor('x')).toBeLessThanOrEqual(2);
        },
      ),
    );
  });

  it('converges on a steady ratio', () => {
    const c = new TokenCalibration();
    for (let i = 0; i < 20; i++) c.observe('m', 5_000 + i * 100, Math.round((5_000 + i * 100) * 1.13));
    expect(c.factor('m')).toBeCloseTo(1.13, 2);
    expect(c.state('m').lastError).toBeLessThan(0.01);
  });

  it('refuses bad options with a clear error', () => {
    expect(() => new TokenCalibration({ smoothing: 0 })).toThrow(/smoothing/);
    expect(() => new TokenCalibration({ minFactor: 2 })).toThrow(/minFactor/);
  });
});
