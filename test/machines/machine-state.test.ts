/**
 * `machineStateOf` reads the state value: for every state the chart can be in, it gives what the
 * rule by `snapshot.matches` gives (the reference below, as it was written before).
 */
import { describe, expect, it } from 'vitest';
import { machineStateOf, sessionMachine } from '../../machines/session.machine.js';
import { initialContext } from '../../machines/session.setup.js';
import type { SessionMachineState } from '../../src/core/types.js';
import { LIMITS } from './session-harness.js';

type Snapshot = ReturnType<typeof sessionMachine.resolveState>;

function byMatches(snapshot: Snapshot): SessionMachineState {
  if (snapshot.matches('loading')) return 'loading';
  if (snapshot.matches('unavailable')) return 'failed';
  if (snapshot.matches('closing') || snapshot.matches('closed') || snapshot.status !== 'active')
    return 'closed';
  if (
    snapshot.matches({ ready: { compaction: 'compacting' } }) ||
    snapshot.matches({ ready: { compaction: 'clearing' } })
  )
    return 'compacting';
  if (snapshot.matches({ ready: { compaction: 'failed' } })) return 'failed';
  if (snapshot.matches({ ready: { writer: 'appending' } })) return 'appending';
  return 'idle';
}

const compactions = [
  'idle',
  'failed',
  'clearing',
  { compacting: 'summarising' },
  { compacting: 'committing' },
];
const values = [
  'loading',
  'unavailable',
  'closing',
  'closed',
  ...['idle', 'appending'].flatMap((writer) =>
    compactions.map((compaction) => ({ ready: { writer, compaction } })),
  ),
];

describe('machineStateOf', () => {
  it('gives, for every state of the chart, what the rule by snapshot.matches gives', () => {
    const context = initialContext({ sessionId: 's1', limits: LIMITS });
    const seen = new Set<SessionMachineState>();
    for (const value of values) {
      const snapshot = sessionMachine.resolveState({ value, context });
      expect(machineStateOf(snapshot), JSON.stringify(value)).toBe(byMatches(snapshot));
      seen.add(machineStateOf(snapshot));
      // A stopped actor is closed whatever its last state (but loading and unavailable, as before).
      const stopped = { ...snapshot, status: 'stopped' } as Snapshot;
      expect(machineStateOf(stopped), `stopped ${JSON.stringify(value)}`).toBe(byMatches(stopped));
    }
    expect([...seen].sort()).toEqual(['appending', 'closed', 'compacting', 'failed', 'idle', 'loading']);
  });
});
