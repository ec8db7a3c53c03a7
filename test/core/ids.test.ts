import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSessionError } from '../../src/core/errors.js';
import { keyOfSessionId, sessionIdOf, validateKey } from '../../src/core/ids.js';
import { AGENT_TYPES, TASK_STATES, type SessionKey } from '../../src/core/types.js';

const part = fc
  .stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._]{0,20}$/)
  .filter((s) => !s.includes('..') && !['__proto__', 'constructor', 'prototype'].includes(s));
/** Any safe part, dashes included (but never two in a row, nor at either end). */
const dashed = fc
  .array(part, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('-'))
  .filter((s) => s.length <= 200);
const agentType = fc.oneof(fc.constantFrom(...AGENT_TYPES), dashed);
const taskState = fc.oneof(fc.constantFrom(...TASK_STATES), dashed);
const keyArb: fc.Arbitrary<SessionKey> = fc.oneof(
  fc.record({ type: fc.constant('feature' as const), agentType, featureId: dashed }),
  fc.record({ type: fc.constant('task' as const), agentType, featureId: dashed, taskId: dashed, taskState }),
);

const refusal = (key: unknown) => {
  try {
    validateKey(key);
    return null;
  } catch (error) {
    expect(isSessionError(error, 'INVALID_KEY')).toBe(true);
    return (error as Error).message;
  }
};

describe('session ids', () => {
  it('are derived from keys one to one: keyOfSessionId inverts sessionIdOf (custom agent types and states too)', () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(keyOfSessionId(sessionIdOf(a))).toEqual(validateKey(a));
        if (sessionIdOf(a) === sessionIdOf(b)) expect(validateKey(a)).toEqual(validateKey(b));
      }),
    );
  });

  it('are safe path segments', () => {
    fc.assert(
      fc.property(keyArb, (key) => {
        const id = sessionIdOf(key);
        expect(id).not.toMatch(/[/\\]|\.\.|^\.|\s/);
      }),
    );
  });

  it('never let two keys share an id through a dash next to the separator', () => {
    // Before: featureId "x-" + taskId "y" and featureId "x" + taskId "-y" were both "task--x---y--...".
    const a = { type: 'task', agentType: 'dev', featureId: 'x-', taskId: 'y', taskState: 'in_dev' };
    const b = { type: 'task', agentType: 'dev', featureId: 'x', taskId: '-y', taskState: 'in_dev' };
    expect(refusal(a)).toMatch(/featureId "x-" must not start or end with "-"/);
    expect(refusal(b)).toMatch(/taskId "-y" must not start or end with "-"/);
    expect(refusal({ type: 'feature', agentType: 'pm-', featureId: 'f' })).toMatch(/agentType/);
  });

  it('accept agent types and task states a host registers, with the same rules as every other part', () => {
    expect(sessionIdOf({ type: 'feature', agentType: 'researcher', featureId: 'f1' })).toBe(
      'feature--f1--researcher',
    );
    expect(
      sessionIdOf({
        type: 'task',
        agentType: 'researcher',
        featureId: 'f1',
        taskId: 't1',
        taskState: 'researching',
      }),
    ).toBe('task--f1--t1--researching--researcher');
    const bad = ['', '..', 'a/b', 'a\\b', 'a--b', '__proto__', 'constructor', 'a b', '-x', 'x-', 'ü'];
    for (const value of bad) {
      expect(refusal({ type: 'feature', agentType: value, featureId: 'f1' }), value).toMatch(/agentType/);
      expect(
        refusal({ type: 'task', agentType: 'dev', featureId: 'f1', taskId: 't1', taskState: value }),
        value,
      ).toMatch(/taskState/);
      expect(refusal({ type: 'feature', agentType: 'pm', featureId: value }), value).toMatch(/featureId/);
    }
    expect(refusal({ type: 'feature', agentType: 42, featureId: 'f1' })).toMatch(/agentType must be/);
    expect(refusal({ type: 'session', agentType: 'pm', featureId: 'f1' })).toMatch(/type must be/);
  });

  it.each(['feature--f1', 'task--a--b--c', 'nonsense', 'feature--../x--pm', 'task--a--b--c---dev'])(
    'keyOfSessionId(%j) is null',
    (id) => {
      expect(keyOfSessionId(id)).toBeNull();
    },
  );
});
