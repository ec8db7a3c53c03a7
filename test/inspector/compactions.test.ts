import { describe, expect, it } from 'vitest';
import type { Checkpoint, Message } from '../../src/core/types.js';
import {
  cutPoints,
  historyWithCuts,
  mergeRecords,
  recordFromEvent,
  recordsFromCheckpoint,
  type CompactionRecord,
} from '../../src/inspector/compactions.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { storedMessage } from '../helpers/fixtures.js';

function checkpoint(version: number, info: Partial<Checkpoint['compactionInfo']>): Checkpoint {
  return {
    version,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-02T00:00:00.000Z',
    summary: { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] },
    compactionInfo: {
      compactor: 'offline',
      messagesCompacted: 0,
      archivedThroughSeq: -1,
      segment: version,
      tokensBefore: 900,
      tokensAfter: 300,
      durationMs: 12,
      chunks: 1,
      escalation: 0,
      archivedMessages: 0,
      archivedTokens: 0,
      ...info,
    },
    tokens: 40,
  };
}

function message(seq: number): Message {
  return storedMessage(seq, seq % 2 ? 'assistant' : 'user', `message ${seq}`, 3);
}

const completed = (version: number, through: number, at = '2025-01-03T00:00:00.000Z'): SessionEvent =>
  ({
    type: 'session.compaction.completed',
    sessionId: 's',
    at,
    compactor: 'offline',
    tokensBefore: 1000,
    tokensAfter: 200,
    messagesCompacted: 5,
    durationMs: 30,
    checkpointVersion: version,
    escalation: 0,
    result: { kind: 'compacted', archivedThroughSeq: through },
  }) as SessionEvent;

describe('compaction records and cut points', () => {
  it('read the latest commit and the cut before it from a checkpoint', () => {
    expect(recordsFromCheckpoint(null)).toEqual([]);
    expect(recordsFromCheckpoint(checkpoint(0, {}))).toEqual([]);
    expect(
      recordsFromCheckpoint(checkpoint(1, { messagesCompacted: 10, archivedThroughSeq: 9 })),
    ).toMatchObject([
      { checkpointVersion: 1, kind: 'compaction', throughSeq: 9, tokensBefore: 900, source: 'checkpoint' },
    ]);
    const [earlier, latest] = recordsFromCheckpoint(
      checkpoint(3, { compactor: 'clear', messagesCompacted: 4, archivedThroughSeq: 20 }),
    );
    expect(latest).toMatchObject({ checkpointVersion: 3, kind: 'clear', throughSeq: 20 });
    expect(earlier).toMatchObject({
      checkpointVersion: 2,
      kind: 'earlier',
      throughSeq: 16,
      tokensBefore: null,
      source: 'derived',
    });
    // A reset that archived nothing tells nothing of the cut before it.
    expect(
      recordsFromCheckpoint(
        checkpoint(4, { compactor: 'reset', messagesCompacted: 0, archivedThroughSeq: 20 }),
      ),
    ).toHaveLength(1);
  });

  it('read completed compaction events, and nothing else', () => {
    expect(recordFromEvent(completed(2, 14))).toMatchObject({
      checkpointVersion: 2,
      throughSeq: 14,
      tokensBefore: 1000,
      tokensAfter: 200,
      messagesCompacted: 5,
      durationMs: 30,
      source: 'event',
    });
    expect(
      recordFromEvent({ ...completed(2, 14), result: { kind: 'nothing-to-fold' } } as SessionEvent),
    ).toBeNull();
    expect(recordFromEvent({ type: 'session.archived', sessionId: 's', at: 'x' })).toBeNull();
  });

  it('merge one record per version, the better source first, filling gaps from the other', () => {
    const fromEvent = recordFromEvent(completed(2, 14))!;
    const fromCheckpoint = recordsFromCheckpoint(
      checkpoint(3, { messagesCompacted: 6, archivedThroughSeq: 20 }),
    );
    const merged = mergeRecords([fromEvent], fromCheckpoint);
    expect(merged.map((r) => [r.checkpointVersion, r.source])).toEqual([
      [2, 'event'],
      [3, 'checkpoint'],
    ]);
    const derivedFirst = mergeRecords(fromCheckpoint, [{ ...fromEvent, at: null }]);
    expect(derivedFirst[0]).toMatchObject({ source: 'event', kind: 'compaction', tokensBefore: 1000 });
    expect(mergeRecords(merged, merged)).toEqual(merged);
  });

  it('cut the history after each known watermark, and mark archived messages', () => {
    const records = mergeRecords(
      recordsFromCheckpoint(checkpoint(3, { messagesCompacted: 3, archivedThroughSeq: 6 })),
      [recordFromEvent(completed(1, 1))!],
    );
    expect(cutPoints(records).map((c) => [c.afterSeq, c.label])).toEqual([
      [1, 'Compaction (checkpoint v1) cut here'],
      [3, 'Earlier compaction or clear (checkpoint v2) cut here'],
      [6, 'Compaction (checkpoint v3) cut here'],
    ]);
    const items = historyWithCuts([9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map(message), records, 6);
    expect(
      items.map((i) =>
        i.kind === 'cut' ? `|${i.cut.afterSeq}` : `${i.message.seq}${i.archived ? 'a' : ''}`,
      ),
    ).toEqual(['0a', '1a', '|1', '2a', '3a', '|3', '4a', '5a', '6a', '|6', '7', '8', '9']);
  });

  it('name a shared cut after the later record and skip records that archived nothing', () => {
    const reset: CompactionRecord = {
      ...recordsFromCheckpoint(checkpoint(2, { compactor: 'reset', archivedThroughSeq: 4 }))[0]!,
    };
    const first = recordsFromCheckpoint(checkpoint(1, { messagesCompacted: 5, archivedThroughSeq: 4 }));
    expect(cutPoints(mergeRecords(first, [reset])).map((c) => c.label)).toEqual([
      'Reset (checkpoint v2) cut here',
    ]);
    expect(cutPoints([{ ...reset, throughSeq: -1 }])).toEqual([]);
  });
});
