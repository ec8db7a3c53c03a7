/**
 * A threshold compaction does not depend on when exact counts arrive: appends are acknowledged
 * before their count (counted on the worker), so the chart may learn that the request reached the
 * threshold only after later messages were written. The compaction then folds as if it had started
 * right after the message that reached it, as it does when the counts come at once.
 */
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { heldLaterCounts } from '../helpers/held-counts.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'decision' };
const texts = Array.from({ length: 24 }, (_, i) => `step ${i}: ${'the tests pass again; '.repeat(70 + i)}`);

/**
 * Appends `texts` one after the other and returns the first compaction's start and end. With
 * `holdFrom`, the counts of the messages from that index on are held until all are written.
 */
async function firstCompaction(holdFrom?: number) {
  const gate = heldLaterCounts();
  const runtime = await createSessionRuntime({
    root: await tempRoot(),
    estimator: gate.estimator,
    limits: { maxTokens: 8_000 },
  });
  const { id } = await runtime.createSession(KEY);
  const events: SessionEvent[] = [];
  let done!: () => void;
  const completed = new Promise<void>((resolve) => (done = resolve));
  runtime.subscribe((event) => {
    events.push(event);
    if (event.type === 'session.compaction.completed') done();
  });
  for (const [i, content] of texts.entries()) {
    if (i === holdFrom) gate.hold();
    const message = await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content });
    // Counted at once: every threshold decision is taken before the next append.
    if (holdFrom === undefined) await runtime.estimateSize(id);
    else if (i >= holdFrom) expect(message.tokens).toBeGreaterThan(gate.estimator.estimateMessage(message));
    if (events.some((e) => e.type === 'session.compaction.started')) break;
    if (holdFrom !== undefined && i === holdFrom + 5) break;
  }
  gate.release();
  await completed;
  const started = events.find((e) => e.type === 'session.compaction.started')!;
  const ended = events.find((e) => e.type === 'session.compaction.completed')!;
  const checkpoint = await runtime.getCheckpoint(id);
  await runtime.close();
  return { started, ended, archivedThroughSeq: checkpoint?.compactionInfo.archivedThroughSeq };
}

describe('a threshold compaction decided once late counts arrive', () => {
  it('folds what it folds when the counts come at once', async () => {
    const prompt = await firstCompaction();
    expect(prompt.started).toMatchObject({ trigger: 'threshold' });
    const reachedAt = prompt.started.type === 'session.compaction.started' ? prompt.started.watermarkSeq : -1;

    // The counts of the messages around the one that reached the threshold come late.
    const late = await firstCompaction(reachedAt - 2);
    // Its decision came after later messages were written: they are below its watermark.
    expect(late.started).toMatchObject({ trigger: 'threshold', watermarkSeq: reachedAt + 3 });
    expect(late.archivedThroughSeq).toBe(prompt.archivedThroughSeq);
    const figures = (e: SessionEvent) =>
      e.type === 'session.compaction.completed'
        ? [e.tokensBefore, e.tokensAfter, e.messagesCompacted, e.checkpointVersion]
        : [];
    expect(figures(late.ended)).toEqual(figures(prompt.ended));
  });
});
