import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import {
  FEATURE_SESSIONS,
  NO_FILTERS,
  filterOptions,
  filterSessions,
  sessionLabel,
} from '../../src/inspector/filters.js';
import type { SessionInfo } from '../../src/runtime/types.js';

function info(key: SessionKey, state: SessionInfo['state'] = 'idle'): SessionInfo {
  const id =
    key.type === 'feature'
      ? `feature--${key.featureId}--${key.agentType}`
      : `task--${key.featureId}--${key.taskId}--${key.taskState}--${key.agentType}`;
  return { id, key, state } as SessionInfo;
}

const SESSIONS = [
  info({ type: 'feature', agentType: 'pm', featureId: 'checkout' }),
  info(
    { type: 'task', agentType: 'dev', featureId: 'checkout', taskId: 't1', taskState: 'in_dev' },
    'compacting',
  ),
  info({ type: 'task', agentType: 'qa', featureId: 'checkout', taskId: 't1', taskState: 'in_qa' }),
  info({ type: 'task', agentType: 'dev', featureId: 'search', taskId: 't7', taskState: 'in_dev' }, 'failed'),
];
const ids = (list: SessionInfo[]) => list.map((s) => s.id);

describe('filters', () => {
  it('keep everything when unset and narrow by each field', () => {
    expect(filterSessions(SESSIONS, NO_FILTERS)).toEqual(SESSIONS);
    expect(ids(filterSessions(SESSIONS, { ...NO_FILTERS, agentType: 'dev' }))).toEqual([
      'task--checkout--t1--in_dev--dev',
      'task--search--t7--in_dev--dev',
    ]);
    expect(ids(filterSessions(SESSIONS, { ...NO_FILTERS, agentType: 'dev', feature: 'search' }))).toEqual([
      'task--search--t7--in_dev--dev',
    ]);
    expect(ids(filterSessions(SESSIONS, { ...NO_FILTERS, taskState: 'in_qa' }))).toEqual([
      'task--checkout--t1--in_qa--qa',
    ]);
    expect(ids(filterSessions(SESSIONS, { ...NO_FILTERS, taskState: FEATURE_SESSIONS }))).toEqual([
      'feature--checkout--pm',
    ]);
    expect(ids(filterSessions(SESSIONS, { ...NO_FILTERS, state: 'compacting' }))).toEqual([
      'task--checkout--t1--in_dev--dev',
    ]);
    expect(filterSessions(SESSIONS, { ...NO_FILTERS, feature: 'nope' })).toEqual([]);
  });

  it('offer the distinct values, feature sessions first among task states, every machine state', () => {
    const options = filterOptions(SESSIONS);
    expect(options.features).toEqual(['checkout', 'search']);
    expect(options.agentTypes).toEqual(['dev', 'pm', 'qa']);
    expect(options.taskStates).toEqual([FEATURE_SESSIONS, 'in_dev', 'in_qa']);
    expect(options.states).toEqual(['idle', 'appending', 'compacting', 'failed', 'loading', 'closed']);
    expect(filterOptions([]).taskStates).toEqual([]);
  });

  it('label sessions for people', () => {
    expect(SESSIONS.map(sessionLabel)).toEqual([
      'checkout · pm',
      'checkout / t1 · dev · in_dev',
      'checkout / t1 · qa · in_qa',
      'search / t7 · dev · in_dev',
    ]);
  });

  it('never keep a session that does not match, and always keep one that does (property)', () => {
    const key = fc.oneof(
      fc.record({
        type: fc.constant('feature' as const),
        agentType: fc.constantFrom('pm' as const, 'dev' as const),
        featureId: fc.constantFrom('a', 'b'),
      }),
      fc.record({
        type: fc.constant('task' as const),
        agentType: fc.constantFrom('dev' as const, 'qa' as const),
        featureId: fc.constantFrom('a', 'b'),
        taskId: fc.constant('t'),
        taskState: fc.constantFrom('in_dev' as const, 'in_qa' as const),
      }),
    );
    const filters = fc.record({
      feature: fc.constantFrom('', 'a', 'b'),
      agentType: fc.constantFrom('', 'pm', 'dev', 'qa'),
      taskState: fc.constantFrom('', 'in_dev', 'in_qa', FEATURE_SESSIONS),
      state: fc.constantFrom('', 'idle', 'failed'),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.constantFrom('idle' as const, 'failed' as const))),
        filters,
        (entries, f) => {
          const sessions = entries.map(([k, state]) => info(k, state));
          const kept = new Set(filterSessions(sessions, f));
          for (const s of sessions) {
            const taskState = s.key.type === 'task' ? s.key.taskState : FEATURE_SESSIONS;
            const matches = [
              f.feature === '' || f.feature === s.key.featureId,
              f.agentType === '' || f.agentType === s.key.agentType,
              f.taskState === '' || f.taskState === taskState,
              f.state === '' || f.state === s.state,
            ].every(Boolean);
            expect(kept.has(s)).toBe(matches);
          }
        },
      ),
    );
  });
});
