/**
 * The session actor's context stays a fast-mode object through its copies: every `assign` copies
 * it with `Object.assign({}, context, update)`, and a dictionary-mode copy (what V8 makes of a
 * copy of the 32-property literal) costs about ten times as much to copy and to read, a few times
 * per append (docs/architecture.md, "Context copies").
 */
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createHarness } from './session-harness.js';

setFlagsFromString('--allow-natives-syntax');
// Compiled after the flag is set: V8's own test of an object's property storage.
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

describe('session context copies', () => {
  it('keeps every context an append makes in fast mode', async () => {
    const h = createHarness();
    await h.flush();
    const contexts: object[] = [];
    const subscription = h.actor.subscribe((snapshot) => contexts.push(snapshot.context));
    for (let i = 0; i < 5; i++) await h.append(10);
    subscription.unsubscribe();
    expect(contexts.length).toBeGreaterThan(5);
    expect(contexts.filter((c) => !hasFastProperties(c))).toHaveLength(0);
  });
});
