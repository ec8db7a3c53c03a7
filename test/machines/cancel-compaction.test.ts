/**
 * `COMPACTION.CANCEL` on the session chart with fake effects: handled while summarising only.
 */
import { describe, expect, it } from 'vitest';
import { machineStateOf } from '../../machines/session.machine.js';
import { createHarness, type Harness } from './session-harness.js';

const state = (h: Harness) => machineStateOf(h.actor.getSnapshot());

describe('COMPACTION.CANCEL', () => {
  it(
    'stops a summarising compaction: its signal fires, ' +
      'its caller hears COMPACTION_CANCELLED, nothing written',
    async () => {
      const h = createHarness();
      await h.flush();
      h.setCompactMode('hang');
      const reply = h.compact(0);
      await h.flush();
      expect(state(h)).toBe('compacting');
      await h.append(50); // an append while it summarises is kept
      h.actor.send({ type: 'COMPACTION.CANCEL' });
      await h.flush();
      expect(state(h)).toBe('idle');
      expect(h.signals[0]!.aborted).toBe(true);
      await expect(reply).resolves.toMatchObject({ ok: false, error: { code: 'COMPACTION_CANCELLED' } });
      expect(h.emitted.map((e) => e.type)).toContain('compaction.cancelled');
      expect(h.disk.checkpointVersion).toBe(0);
      expect(h.disk.archive).toEqual([]);
      expect(h.disk.live.map((m) => m.seq)).toEqual([0]);
    },
  );

  it('past the threshold, does not start again by itself until keepRecentTokens more tokens arrive', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang');
    await h.fillPastThreshold(); // the threshold starts a compaction, which hangs
    await h.flush();
    expect(state(h)).toBe('compacting');
    h.actor.send({ type: 'COMPACTION.CANCEL' });
    await h.flush();
    expect(state(h)).toBe('idle');
    h.setCompactMode('ok');
    await h.append(199);
    await h.flush();
    expect(h.calls.compact).toHaveLength(1);
    expect(state(h)).toBe('idle');
    await h.append(1); // LIMITS.keepRecentTokens (200) more: the threshold may start it again
    await h.flush();
    expect(h.calls.compact).toHaveLength(2);
    expect(h.disk.checkpointVersion).toBe(1);
  });

  it('is ignored once the commit has started: that compaction completes', async () => {
    const h = createHarness();
    await h.flush();
    h.setCompactMode('hang-after-commit-start');
    await h.fillPastThreshold();
    await h.flush();
    expect(state(h)).toBe('compacting');
    h.actor.send({ type: 'COMPACTION.CANCEL' });
    await h.flush();
    expect(state(h)).toBe('compacting');
    expect(h.signals[0]!.aborted).toBe(false);
    h.releaseCompaction();
    await h.flush();
    expect(state(h)).toBe('idle');
    expect(h.disk.checkpointVersion).toBe(1);
    expect(h.emitted.map((e) => e.type)).not.toContain('compaction.cancelled');
  });
});
