/**
 * The pure parts of the history view and the chart: the virtual list's arithmetic, the search,
 * the checkpoint diff, the token timeline, and the history cache's reads (over a real runtime).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { Checkpoint, Message } from '../../src/core/types.js';
import { diffCheckpoints } from '../../src/inspector/checkpoint-diff.js';
import type { CompactionRecord } from '../../src/inspector/compactions.js';
import { createHistoryCache, HISTORY_PAGE } from '../../src/inspector/history-cache.js';
import { createMatcher, searchActive } from '../../src/inspector/history-search.js';
import { downsample, tokenTimeline } from '../../src/inspector/token-timeline.js';
import { rowAt, rowOffsets, visibleRows } from '../../src/inspector/virtual-rows.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';
import { DEV, devRound } from './seed.js';

const message = (seq: number, over: Partial<Message> = {}): Message => ({
  id: `msg_${seq}`,
  seq,
  role: 'user',
  content: `m${seq}`,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  tokens: 10,
  ...over,
});

describe('virtual rows', () => {
  it('shows exactly the rows that intersect the viewport, plus the overscan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 2_000 }),
        fc.nat({ max: 6 }),
        (heights, scroll, viewport, overscan) => {
          const { tops, height } = rowOffsets(heights);
          const top = scroll % (height + 1);
          const { first, last } = visibleRows(tops, height, top, viewport, overscan);
          const visible = heights
            .map((h, i) => ({ i, from: tops[i]!, to: tops[i]! + h }))
            .filter((r) => r.to > top && r.from < Math.min(height, top + viewport));
          for (const r of visible) {
            expect(r.i).toBeGreaterThanOrEqual(first);
            expect(r.i).toBeLessThanOrEqual(last);
          }
          // No more than the overscan beyond what is visible.
          if (visible.length > 0) {
            expect(visible[0]!.i - first).toBeLessThanOrEqual(overscan);
            expect(last - visible.at(-1)!.i).toBeLessThanOrEqual(overscan);
          }
        },
      ),
    );
    expect(rowAt([0, 10, 30], 12)).toBe(1);
    expect(visibleRows([], 0, 0, 100)).toEqual({ first: 0, last: -1 });
  });
});

describe('the history search', () => {
  const use = (seq: number, name: string, id: string) =>
    message(seq, { role: 'assistant', content: [{ type: 'tool_use', id, name, input: { q: seq } }] });
  const result = (seq: number, id: string, text: string) =>
    message(seq, { content: [{ type: 'tool_result', tool_use_id: id, content: text }] });
  const history = [
    message(0, { content: 'Run the tests' }),
    use(1, 'Bash', 't1'),
    result(2, 't1', 'FAIL a.test.ts'),
    use(3, 'Read', 't2'),
    result(4, 't2', 'FAIL is a word in this file'),
    message(5, { role: 'assistant', content: 'The bash run failed' }),
  ];

  it('finds a tool by name, its calls and their results, and combines text and role', () => {
    expect(history.filter(createMatcher({ text: '', role: '', tool: 'bash' })).map((m) => m.seq)).toEqual([
      1, 2,
    ]);
    expect(history.filter(createMatcher({ text: 'fail', role: '', tool: '' })).map((m) => m.seq)).toEqual([
      2, 4, 5,
    ]);
    expect(
      history.filter(createMatcher({ text: 'FAIL', role: 'user', tool: 'Bash' })).map((m) => m.seq),
    ).toEqual([2]);
    expect(
      history.filter(createMatcher({ text: '', role: 'assistant', tool: '' })).map((m) => m.seq),
    ).toEqual([1, 3, 5]);
    expect(searchActive({ text: ' ', role: '', tool: '' })).toBe(false);
  });
});

describe('diffCheckpoints', () => {
  const checkpoint = (
    version: number,
    summary: Partial<Checkpoint['summary']>,
    files: string[][],
  ): Checkpoint =>
    ({
      version,
      summary: { completed: [], inProgress: [], pending: [], decisions: [], blockers: [], ...summary },
      ledger: {
        files: files.map(([path, action]) => ({ path, action, seq: 1, firstSeq: 1 })),
        commands: [],
        problems: [],
        requests: [],
        names: [],
        status: null,
        throughSeq: 1,
        iterations: 0,
      },
    }) as unknown as Checkpoint;

  it('says what was added, superseded and dropped, section by section', () => {
    const older = checkpoint(1, { completed: ['parser'], pending: ['docs'] }, [
      ['a.ts', 'read'],
      ['b.ts', 'edited'],
    ]);
    const newer = checkpoint(2, { completed: ['parser', 'writer'] }, [
      ['a.ts', 'edited'],
      ['c.ts', 'created'],
    ]);
    const diff = Object.fromEntries(diffCheckpoints(older, newer).map((s) => [s.id, s]));
    expect(diff['completed']).toMatchObject({ added: ['writer'], superseded: [], dropped: [] });
    expect(diff['pending']).toMatchObject({ added: [], dropped: ['docs'] });
    expect(diff['files']).toMatchObject({
      added: ['created c.ts'],
      superseded: [{ from: 'read a.ts', to: 'edited a.ts' }],
      dropped: ['edited b.ts'],
    });
    expect(
      diffCheckpoints(newer, newer).every(
        (s) => s.added.length + s.superseded.length + s.dropped.length === 0,
      ),
    ).toBe(true);
  });
});

describe('tokenTimeline', () => {
  const record = (version: number, at: string, before: number, after: number): CompactionRecord => ({
    checkpointVersion: version,
    kind: 'compaction',
    throughSeq: 0,
    at,
    compactor: 'offline',
    tokensBefore: before,
    tokensAfter: after,
    messagesCompacted: 1,
    durationMs: 1,
    source: 'checkpoint',
  });

  it('grows by each message, drops to tokensAfter at each commit, and skips internal messages', () => {
    const history = [
      message(0),
      message(1),
      message(2, { metadata: { internal: true } }),
      message(3),
      message(4),
    ];
    // Committed between message 1 and message 3 (message 2's time is before it).
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, 2, 500)).toISOString();
    const { points, marks } = tokenTimeline(history, [record(1, at, 125, 40)], 100);
    expect(points.map((p) => p.tokens)).toEqual([110, 120, 120, 50, 60]);
    expect(marks).toHaveLength(1);
    expect(marks[0]).toMatchObject({ afterSeq: 2, before: 125, after: 40 });
    const many = Array.from({ length: 5_000 }, (_, i) => ({ seq: i, tokens: i % 977 }));
    const fewer = downsample(many, 500);
    expect(fewer.length).toBeLessThanOrEqual(500);
    expect(Math.max(...fewer.map((p) => p.tokens))).toBe(976); // peaks kept
  });
});

describe('createHistoryCache', () => {
  it('reads a page once, only the pages asked for, and takes appended messages from events', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      compactor: new OfflineCompactor(),
      limits: { maxTokens: 400_000, compactAt: 0.9, keepRecentTokens: 300, replyReserveTokens: 1_000 },
    });
    try {
      const { id } = await runtime.createSession(DEV);
      for (let round = 0; round < 25; round++)
        for (const m of devRound(`src/f${round}.ts`, `topic ${round}`)) await runtime.addMessage(id, m);
      await runtime.compact(id, { keepRecentTokens: 300 });
      const queries: unknown[] = [];
      const api = {
        getHistory: ((sessionId: string, query?: Parameters<typeof runtime.getHistory>[1]) => {
          queries.push(query);
          return runtime.getHistory(sessionId, query!);
        }) as typeof runtime.getHistory,
      };
      const cache = createHistoryCache(api, id);
      await cache.start();
      expect(cache.count).toBe(300);
      await cache.ensure(150, 160);
      await cache.ensure(155, 199); // the same page: no read
      expect(queries).toEqual([{ limit: 1 }, { after: 99, before: 200, order: 'asc' }]);
      expect(cache.get(150)).toEqual((await runtime.getHistory(id, { after: 149, before: 151 }))[0]);
      expect(cache.get(50)).toBeUndefined();
      const seen: number[] = [];
      await cache.scan((through) => seen.push(through));
      expect(seen).toEqual([99, 199, 299]);
      expect(queries).toHaveLength(4); // pages 0 and 2 only
      const history = await runtime.getHistory(id);
      expect(Array.from({ length: cache.count }, (_, seq) => cache.get(seq))).toEqual(history);
      cache.add({ ...history[0]!, seq: 300 });
      expect(cache.count).toBe(301);
      expect(HISTORY_PAGE).toBe(100);
    } finally {
      await runtime.close();
    }
  });
});
