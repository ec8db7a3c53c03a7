import { describe, expect, it } from 'vitest';
import {
  machineStateOf,
  requestTokensOf,
  retryDelayOf,
  type AppendReply,
  type NewMessage,
} from '../../machines/session.machine.js';
import { createHarness } from './session-harness.js';

const state = (h: ReturnType<typeof createHarness>) => machineStateOf(h.actor.getSnapshot());

describe('session machine: appends', () => {
  it('persists appends in order and answers each caller only after its write', async () => {
    const h = createHarness();
    await h.flush();
    const release = h.holdPersist();
    let answered = false;
    const first = h.append(10).then((r) => ((answered = true), r));
    await h.flush();
    expect(state(h)).toBe('appending');
    expect(answered).toBe(false);
    release();
    const reply = await first;
    expect(reply).toMatchObject({ ok: true, message: { seq: 0 } });
    expect(h.disk.live.map((m) => m.seq)).toEqual([0]);
  });

  it('group-commits appends that queue behind a running write', async () => {
    const h = createHarness();
    await h.flush();
    const release = h.holdPersist();
    const replies = [h.append(1), h.append(1), h.append(1), h.append(1)];
    await h.flush();
    release();
    const seqs = (await Promise.all(replies)).map((r) => (r.ok ? r.message.seq : -1));
    expect(seqs).toEqual([0, 1, 2, 3]);
    // The first write took message 0; the three that queued behind it shared one write.
    expect(h.calls.persist).toEqual([[0], [1, 2, 3]]);
  });

  it('queues appends sent while loading and numbers them after the messages on disk', async () => {
    const h = createHarness({
      initial: [{ id: 'a', seq: 0, role: 'user', content: 'x', timestamp: 't', tokens: 5 }],
    });
    const reply = h.append(5); // sent before load finished
    const r = await reply;
    expect(r).toMatchObject({ ok: true, message: { seq: 1 } });
    expect(h.actor.getSnapshot().context.liveTokens).toBe(10);
  });

  it('queues the appends of one APPEND.MANY in order, as one write, each caller answered', async () => {
    const h = createHarness({
      initial: [{ id: 'a', seq: 0, role: 'user', content: 'x', timestamp: 't', tokens: 5 }],
    });
    const many = (contents: string[]) =>
      contents.map(
        (content) =>
          new Promise<AppendReply>((reply) => {
            const message = { id: content, role: 'user' as const, content, timestamp: 't', tokens: 1 };
            appends.push({ message, reply });
          }),
      );
    const appends: { message: NewMessage; reply: (r: AppendReply) => void }[] = [];
    const loading = many(['b', 'c']); // sent before load finished: numbered after the disk
    h.actor.send({ type: 'APPEND.MANY', appends: appends.splice(0) });
    await h.flush();
    const ready = many(['d', 'e', 'f']);
    h.actor.send({ type: 'APPEND.MANY', appends: appends.splice(0) });
    const replies = await Promise.all([...loading, ...ready]);
    expect(replies.map((r) => r.ok && [r.message.content, r.message.seq])).toEqual([
      ['b', 1],
      ['c', 2],
      ['d', 3],
      ['e', 4],
      ['f', 5],
    ]);
    expect(h.calls.persist).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(h.actor.getSnapshot().context.liveTokens).toBe(10);
    const broken = createHarness({ loadFails: true });
    await broken.flush();
    const refused = many(['g', 'h']);
    broken.actor.send({ type: 'APPEND.MANY', appends: appends.splice(0) });
    expect((await Promise.all(refused)).map((r) => r.ok)).toEqual([false, false]);
  });

  it('answers a failed write with the error and keeps going', async () => {
    const h = createHarness();
    await h.flush();
    // A persist that throws: replace the disk's push by a failure for one call.
    const live = h.disk.live;
    Object.defineProperty(h.disk, 'live', {
      configurable: true,
      get: () => {
        throw new Error('ENOSPC');
      },
    });
    const failed = await h.append(10);
    expect(failed.ok).toBe(false);
    Object.defineProperty(h.disk, 'live', { configurable: true, writable: true, value: live });
    const ok = await h.append(10);
    expect(ok.ok).toBe(true);
    expect(h.actor.getSnapshot().context.liveTokens).toBe(10);
  });
});

describe('session machine: compaction', () => {
  it('compacts by itself when the next request would pass the threshold', async () => {
    const h = createHarness();
    await h.flush();
    await h.fillPastThreshold();
    expect(h.calls.compact).toHaveLength(1);
    const snapshot = h.actor.getSnapshot();
    expect(state(h)).toBe('idle');
    expect(requestTokensOf(snapshot.context)).toBeLessThan(800);
    expect(snapshot.context.checkpointVersion).toBe(1);
    expect(h.emitted.map((e) => e.type)).toContain('compaction.completed');
  });

  it('persists appends made during a compaction at once, and they survive it', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang');
    await h.fillPastThreshold();
    expect(state(h)).toBe('compacting');
    const watermark = h.calls.compact[0]!.watermarkSeq;
    const during = await h.append(30);
    expect(during.ok).toBe(true); // answered while the compaction still runs
    expect(h.disk.live.some((m) => m.seq === 8)).toBe(true);
    h.releaseCompaction();
    await h.flush();
    expect(state(h)).toBe('idle');
    expect(watermark).toBe(7);
    expect(h.disk.live.map((m) => m.seq)).toContain(8);
    expect([...h.disk.archive, ...h.disk.live].map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('coalesces COMPACT sent during a compaction: one run, every caller answered', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang');
    await h.fillPastThreshold();
    const a = h.compact();
    const b = h.compact();
    h.releaseCompaction();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.ok && rb.ok).toBe(true);
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
  });

  it('on failure keeps the disk as it was, goes to failed, accepts appends and retries with backoff', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('fail');
    await h.fillPastThreshold();
    expect(state(h)).toBe('failed');
    expect(h.disk.archive).toHaveLength(0);
    expect(h.actor.getSnapshot().context.failure).toMatchObject({
      code: 'COMPACTOR_UNAVAILABLE',
      retryable: true,
    });
    expect((await h.append(10)).ok).toBe(true);
    expect(state(h)).toBe('failed');
    // No retry before the backoff delay...
    h.clock.increment(999);
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
    // ...one after it; the second delay doubles.
    h.clock.increment(1);
    await h.flush();
    expect(h.calls.compact).toHaveLength(2);
    h.clock.increment(1_999);
    await h.flush();
    expect(h.calls.compact).toHaveLength(2);
    h.setCompactMode('ok');
    h.clock.increment(1);
    await h.flush();
    expect(h.calls.compact).toHaveLength(3);
    expect(state(h)).toBe('idle');
    expect(h.actor.getSnapshot().context.failure).toBeNull();
  });

  it('caps the backoff', () => {
    const c = { retryBaseMs: 1_000, retryMaxMs: 8_000 };
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayOf(c, n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });

  it('times out a hanging compactor through the clock, aborting its signal', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang');
    await h.fillPastThreshold();
    expect(state(h)).toBe('compacting');
    h.clock.increment(5_000);
    await h.flush();
    expect(state(h)).toBe('failed');
    expect(h.actor.getSnapshot().context.failure?.code).toBe('COMPACTOR_TIMEOUT');
    expect(h.signals[0]!.aborted).toBe(true);
    expect(h.disk.archive).toHaveLength(0);
  });

  it('never cancels a compaction that has started to commit', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang-after-commit-start');
    await h.fillPastThreshold();
    h.clock.increment(60_000);
    await h.flush();
    expect(state(h)).toBe('compacting');
    expect(h.signals[0]!.aborted).toBe(false);
    h.releaseCompaction();
    await h.flush();
    expect(state(h)).toBe('idle');
    expect(h.actor.getSnapshot().context.checkpointVersion).toBe(1);
  });

  it(
    'commits as a state of its own: the writes of the summary ' +
      'go to the commit effect, which no timeout or close cuts',
    async () => {
      const h = createHarness();
      await h.flush();
      h.setCompactMode('hang-after-commit-start');
      await h.fillPastThreshold();
      const committing = () =>
        h.actor.getSnapshot().matches({ ready: { compaction: { compacting: 'committing' } } });
      expect(committing()).toBe(true);
      expect(h.calls.commit).toHaveLength(1);
      const commit = h.calls.commit[0]!;
      expect(commit.segment!.messages.map((m) => m.seq)).toEqual(
        h.disk.live.slice(0, commit.output.messagesCompacted).map((m) => m.seq),
      );
      expect(h.disk.archive).toHaveLength(0); // the summary wrote nothing
      h.actor.send({ type: 'CLOSE' });
      h.clock.increment(60_000);
      await h.flush();
      expect(committing()).toBe(true);
      expect(h.signals[0]!.aborted).toBe(false);
      h.releaseCompaction();
      await h.flush();
      expect(h.disk.archive.map((m) => m.seq)).toEqual(commit.segment!.messages.map((m) => m.seq));
      expect(h.actor.getSnapshot().status).toBe('done');
    },
  );

  it('does not loop when a compaction makes no progress, and tries again after a change', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('no-progress');
    await h.fillPastThreshold();
    expect(state(h)).toBe('failed');
    expect(h.actor.getSnapshot().context.failure).toMatchObject({
      code: 'COMPACTION_NO_PROGRESS',
      noProgress: true,
    });
    h.clock.increment(3_600_000);
    await h.append(1);
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
    h.setCompactMode('ok');
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 5 });
    await h.flush();
    expect(h.calls.compact.length).toBe(2);
  });

  it('watermark never moves back and counts stay consistent across compactions', async () => {
    const h = createHarness();
    await h.flush();
    const watermarks: number[] = [];
    for (let i = 0; i < 60; i++) {
      await h.append(50 + (i % 7) * 10);
      await h.flush();
      watermarks.push(h.actor.getSnapshot().context.archivedThroughSeq);
    }
    expect(watermarks).toEqual([...watermarks].sort((a, b) => a - b));
    const c = h.actor.getSnapshot().context;
    expect(c.liveCount).toBe(h.disk.live.length);
    expect(c.liveTokens).toBe(h.disk.live.reduce((s, m) => s + m.tokens, 0));
  });
});

describe('session machine: lifecycle', () => {
  it('a session whose files do not load refuses appends with the reason', async () => {
    const h = createHarness({ loadFails: true });
    await h.flush();
    expect(state(h)).toBe('failed');
    const reply = await h.append(1);
    expect(reply.ok).toBe(false);
    expect(JSON.stringify(!reply.ok && reply.error)).toContain('CORRUPT_FILE');
  });

  it('CLOSE waits for the write in flight before closing', async () => {
    const h = createHarness();
    await h.flush();
    const release = h.holdPersist();
    const pending = h.append(1);
    await h.flush();
    h.actor.send({ type: 'CLOSE' });
    await h.flush();
    expect(h.actor.getSnapshot().status).toBe('active');
    release();
    expect((await pending).ok).toBe(true);
    await h.flush();
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});

describe('session machine: no progress', () => {
  it('goes back to idle when a smaller context makes the request fit again', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('no-progress');
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 790 });
    await h.append(10);
    await h.flush();
    expect(state(h)).toBe('failed');
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 10 });
    await h.flush();
    expect(state(h)).toBe('idle');
    expect(h.actor.getSnapshot().context.failure).toBeNull();
  });
});

describe('session machine: fixed parts that alone pass maxTokens', () => {
  it('fails at the threshold without calling summarise, and compacts once a part shrinks', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('no-progress'); // what a compaction of such a session would end in
    // 1,001 tokens of context in a 1,000-token window: no request can be built, whatever is compacted.
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 1_001 });
    await h.append(10);
    await h.flush();
    expect(state(h)).toBe('failed');
    const failure = h.actor.getSnapshot().context.failure;
    expect(failure).toMatchObject({ code: 'COMPACTION_NO_PROGRESS', retryable: false, noProgress: true });
    expect(failure?.message).toContain('pass maxTokens 1000: no compaction can help');
    expect(h.emitted.filter((e) => e.type === 'compaction.failed')).toHaveLength(1);
    expect(h.emitted.filter((e) => e.type === 'compaction.started')).toHaveLength(0);
    // Appends and the retry clock start none either.
    for (let i = 0; i < 5; i++) await h.append(300);
    h.clock.increment(3_600_000);
    await h.flush();
    expect(h.calls.compact).toHaveLength(0);
    expect(state(h)).toBe('failed');
    // Past the threshold with parts a compaction can help: it runs.
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 100 });
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
  });
});

describe('session machine: fixed parts that reach the threshold but fit maxTokens', () => {
  it('fails at the threshold with no summarise call, saying requests still fit; a smaller part lifts it', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('no-progress'); // what a compaction of such a session would end in
    // 900 tokens of context: at the threshold of 800 with no checkpoint and no message, under 1,000.
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 900 });
    await h.append(10);
    await h.flush();
    expect(h.calls.compact).toHaveLength(0);
    expect(state(h)).toBe('failed');
    const failure = h.actor.getSnapshot().context.failure;
    expect(failure).toMatchObject({ code: 'COMPACTION_NO_PROGRESS', retryable: false, noProgress: true });
    expect(failure?.message).toContain(
      'reach the compaction threshold 800: no compaction can bring a request',
    );
    expect(failure?.message).toContain('still built while they fit maxTokens 1000');
    for (let i = 0; i < 5; i++) await h.append(300);
    h.clock.increment(3_600_000);
    await h.flush();
    expect(h.calls.compact).toHaveLength(0);
    expect(h.emitted.filter((e) => e.type === 'compaction.failed')).toHaveLength(1);
    h.actor.send({ type: 'FIXED.CHANGED', contextTokens: 100 });
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
  });
});
