/**
 * `maxActive` bounds the session actors in memory on the real runtime: a burst of 200 sessions
 * with a cap of 50 never keeps more actors than max(50, actors busy or in use by a call), at any
 * supervisor snapshot, and at most 50 once the burst has settled; nothing appended is lost.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const CAP = 50;
const SESSIONS = 200;

interface Entry {
  closing: boolean;
  state: string;
}
interface SupervisorView {
  sessions: Record<string, Entry>;
  /** The runtime's registry: which sessions calls use now. */
  uses: { inUse(sessionId: string): boolean };
  maxActive: number;
}

const keyOf = (i: number): SessionKey => ({
  type: 'task',
  agentType: 'dev',
  featureId: 'burst',
  taskId: `t${i}`,
  taskState: 'in_dev',
});

describe('maxActive', () => {
  it(
    `a burst of ${SESSIONS} sessions with maxActive ${CAP} ` +
      `keeps at most max(${CAP}, in use), and ${CAP} once settled`,
    async () => {
      const violations: string[] = [];
      let most = 0;
      let last: SupervisorView | null = null;
      let settled: (() => void) | null = null;
      const isSettled = (c: SupervisorView) =>
        Object.entries(c.sessions).every(([id, e]) => !e.closing && e.state === 'idle' && !c.uses.inUse(id));
      const inspect = (event: InspectionEvent) => {
        if (event.type !== '@xstate.snapshot') return;
        const c = (event.snapshot as { context?: Partial<SupervisorView> }).context;
        if (!c || typeof c.maxActive !== 'number' || c.sessions === undefined) return; // not the supervisor
        const view = c as SupervisorView;
        const alive = Object.entries(view.sessions).filter(([, e]) => !e.closing);
        const inUse = alive.filter(([id, e]) => e.state !== 'idle' || view.uses.inUse(id)).length;
        if (alive.length > Math.max(CAP, inUse))
          violations.push(`${alive.length} alive, ${inUse} in use, cap ${CAP}`);
        most = Math.max(most, Object.keys(view.sessions).length);
        last = view;
        if (settled && isSettled(view)) settled();
      };
      const runtime = await createSessionRuntime({
        root: await tempRoot(),
        durable: false,
        supervisor: { maxActive: CAP },
        inspect,
      });
      const ids: string[] = [];
      for (let i = 0; i < SESSIONS; i++) ids.push((await runtime.createSession(keyOf(i))).id);
      // The burst: every session in use at once.
      const appended = await Promise.all(
        ids.map((id, i) => runtime.addMessage(id, { role: 'user', content: `message ${i} of the burst` })),
      );
      expect(appended).toHaveLength(SESSIONS);
      // Settled: no call in flight, every actor idle, none on its way out (closing ones are still
      // in memory until their close effect has run).
      const settle = () =>
        new Promise<void>((resolve) => {
          settled = resolve;
          if (last && isSettled(last)) resolve();
        });
      await settle();
      expect(violations).toEqual([]);
      expect(runtime.activeSessionIds().length).toBeLessThanOrEqual(CAP);
      expect(most).toBeGreaterThan(CAP); // the burst did pass the cap while the calls were in flight
      for (const [i, id] of ids.entries())
        expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual([`message ${i} of the burst`]);
      await settle();
      expect(runtime.activeSessionIds().length).toBeLessThanOrEqual(CAP);
      expect(violations).toEqual([]);
      await runtime.close();
    },
    120_000,
  );
});
