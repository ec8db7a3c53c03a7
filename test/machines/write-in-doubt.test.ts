/**
 * `WRITE.IN_DOUBT`: a write of the session (any of them: a commit, a clear, `setContext`...) is in
 * its files but not durable, so the actor's memory may not be what they hold. The chart keeps the
 * first such write as its failure for the rest of the actor's life (only a new actor, which loads
 * the files, ends it): `failed` from `idle`, once loaded when it came while loading, from a
 * retryable failure (no retry timer runs a compaction then), and after a compaction that was
 * committing when it came and ends well.
 */
import { describe, expect, it } from 'vitest';
import { machineStateOf } from '../../machines/session.machine.js';
import { createHarness } from './session-harness.js';

const state = (h: ReturnType<typeof createHarness>) => machineStateOf(h.actor.getSnapshot());

/** The store's error of a write in place but not durable (what SessionHandle tells the actor). */
const inDoubt = (file: string) =>
  Object.assign(new Error(`session s1: the context write is in the files: ${file} is in place...`), {
    code: 'IO_ERROR',
    retryable: false,
    details: { outcome: 'in-place-not-durable', installed: file, errno: 'EIO' },
  });

const doubtsOf = (h: ReturnType<typeof createHarness>) =>
  h.emitted.filter((e) => e.type === 'write.in-doubt');

describe('session machine: a write in doubt', () => {
  it('fails an idle session with it, emits it once, and still takes appends', async () => {
    const h = createHarness();
    await h.flush();
    h.actor.send({ type: 'WRITE.IN_DOUBT', error: inDoubt('context.json') });
    expect(state(h)).toBe('failed');
    const failure = {
      code: 'IO_ERROR',
      retryable: false,
      details: { outcome: 'in-place-not-durable', installed: 'context.json' },
    };
    expect(h.actor.getSnapshot().context.failure).toMatchObject(failure);
    expect(doubtsOf(h)).toMatchObject([{ sessionId: 's1', failure }]);
    // A second one (a write that started before the first failed) changes nothing: the first says why.
    h.actor.send({ type: 'WRITE.IN_DOUBT', error: inDoubt('agent-description.json') });
    expect(doubtsOf(h)).toHaveLength(1);
    expect(h.actor.getSnapshot().context.failure).toMatchObject(failure);
    expect((await h.append(10)).ok).toBe(true);
    expect(state(h)).toBe('failed');
  });

  it('comes in while loading (a write of the load): failed once loaded', async () => {
    const h = createHarness();
    expect(h.actor.getSnapshot().value).toBe('loading');
    h.actor.send({ type: 'WRITE.IN_DOUBT', error: inDoubt('counts.json') });
    await h.flush();
    expect(state(h)).toBe('failed');
    expect(h.actor.getSnapshot().context.failure).toMatchObject({ details: { installed: 'counts.json' } });
    expect(doubtsOf(h)).toHaveLength(1);
  });

  it('replaces a retryable failure: no retry timer starts a compaction', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('fail');
    await h.fillPastThreshold();
    expect(h.actor.getSnapshot().context.failure).toMatchObject({ retryable: true });
    h.actor.send({ type: 'WRITE.IN_DOUBT', error: inDoubt('context.json') });
    expect(h.actor.getSnapshot().context.failure).toMatchObject({
      retryable: false,
      details: { outcome: 'in-place-not-durable' },
    });
    h.setCompactMode('ok');
    h.clock.increment(60_000);
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
    expect(state(h)).toBe('failed');
  });

  it('outlives a compaction that was committing when it came and ends well', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang-after-commit-start');
    await h.fillPastThreshold();
    expect(h.calls.commit).toHaveLength(1);
    h.actor.send({ type: 'WRITE.IN_DOUBT', error: inDoubt('context.json') });
    expect(state(h)).toBe('compacting');
    h.releaseCompaction();
    await h.flush();
    expect(h.emitted.map((e) => e.type)).toContain('compaction.completed');
    expect(h.actor.getSnapshot().context.checkpointVersion).toBe(1);
    expect(state(h)).toBe('failed');
    expect(h.actor.getSnapshot().context.failure).toMatchObject({
      details: { outcome: 'in-place-not-durable' },
    });
  });
});
