import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyOfSessionId, sessionIdOf, validateKey } from '../../src/core/ids.js';
import { AGENT_TYPES, TASK_STATES, type SessionKey } from '../../src/core/types.js';

const part = fc
  .stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._]{0,20}$/)
  .filter((s) => !s.includes('..') && !['__proto__', 'constructor', 'prototype'].includes(s));
const keyArb: fc.Arbitrary<SessionKey> = fc.oneof(
  fc.record({
    type: fc.constant('feature' as const),
    agentType: fc.constantFrom(...AGENT_TYPES),
    featureId: part,
  }),
  fc.record({
    type: fc.constant('task' as const),
    agentType: fc.constantFrom(...AGENT_TYPES),
    featureId: part,
    taskId: part,
    taskState: fc.constantFrom(...TASK_STATES),
  }),
);

describe('session ids', () => {
  it('are derived from keys one to one: keyOfSessionId inverts sessionIdOf', () => {
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

  it.each(['feature--f1', 'task--a--b--c--dev', 'nonsense', 'feature--../x--pm'])(
    'keyOfSessionId(%j) is null',
    (id) => {
      expect(keyOfSessionId(id)).toBeNull();
    },
  );
});
