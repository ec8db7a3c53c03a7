import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatTime,
  formatTokens,
  gaugeLevel,
  gaugePercent,
} from '../../src/inspector/gauge.js';

describe('gauge', () => {
  it('warns from 80% of the limit and is over at the limit', () => {
    expect(gaugeLevel(0, 100_000)).toBe('ok');
    expect(gaugeLevel(79_999, 100_000)).toBe('ok');
    expect(gaugeLevel(80_000, 100_000)).toBe('warning');
    expect(gaugeLevel(99_999, 100_000)).toBe('warning');
    expect(gaugeLevel(100_000, 100_000)).toBe('over');
    expect(gaugeLevel(5, 0)).toBe('over');
    expect(gaugeLevel(50, 100, 0.5)).toBe('warning');
  });

  it('draws a clamped percentage and formats figures', () => {
    expect(gaugePercent(25, 100)).toBe(25);
    expect(gaugePercent(150, 100)).toBe(100);
    expect(gaugePercent(-1, 100)).toBe(0);
    expect(gaugePercent(1, 0)).toBe(100);
    expect(formatTokens(1234567.4)).toBe('1,234,567');
    expect([formatDuration(850), formatDuration(2400), formatDuration(185_000)]).toEqual([
      '850 ms',
      '2.4 s',
      '3 min 5 s',
    ]);
    expect([formatTime('2025-01-31T14:05:09.123Z'), formatTime(null), formatTime('yesterday')]).toEqual([
      '2025-01-31 14:05:09',
      '—',
      'yesterday',
    ]);
  });
});
