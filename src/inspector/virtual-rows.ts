/**
 * The arithmetic of the virtualised history list: rows of known heights, stacked; which rows a
 * viewport shows. Pure: the list renders only those rows, in a box as tall as all of them.
 */

/**
 * Row tops, stacked, and the total height.
 * @example rowOffsets([10, 20]) // { tops: [0, 10], height: 30 }
 */
export function rowOffsets(heights: readonly number[]): { tops: number[]; height: number } {
  const tops = new Array<number>(heights.length);
  let y = 0;
  for (let i = 0; i < heights.length; i++) {
    tops[i] = y;
    y += heights[i]!;
  }
  return { tops, height: y };
}

/**
 * The index of the row at height `y` (the last row whose top is at or above it).
 * @example rowAt([0, 10, 30], 12) // 1
 */
export function rowAt(tops: readonly number[], y: number): number {
  let lo = 0;
  let hi = tops.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tops[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return Math.max(0, lo);
}

/**
 * The rows a viewport of `viewport` pixels scrolled to `scrollTop` shows, with `overscan` rows
 * more on each side (so a fast scroll shows no blank): indexes `first`…`last`, inclusive.
 *
 * @example visibleRows([0, 10, 20, 30], 40, 15, 10, 0) // { first: 1, last: 2 }
 */
export function visibleRows(
  tops: readonly number[],
  height: number,
  scrollTop: number,
  viewport: number,
  overscan = 4,
): { first: number; last: number } {
  if (tops.length === 0) return { first: 0, last: -1 };
  const top = Math.max(0, Math.min(scrollTop, height));
  const first = Math.max(0, rowAt(tops, top) - overscan);
  const last = Math.min(tops.length - 1, rowAt(tops, Math.max(top, top + viewport - 1)) + overscan);
  return { first, last };
}
