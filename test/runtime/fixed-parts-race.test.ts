/**
 * A description and a context set at once are each checked against the other as written, not
 * both against the pair from before either: each fits alone, together they leave no room for a
 * conversation, so one of the two calls is refused and what the session holds fits. Before the
 * writes went one at a time, both calls passed their check and the session was left with parts
 * that no request could hold with a conversation (every append a compaction that cannot help).
 */
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { fixedPartsRoom } from '../../src/core/fixed-parts-room.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f1' };
const LIMITS = { maxTokens: 20_000 };
const ROOM = fixedPartsRoom(resolveLimits(LIMITS));
/** About `tokens` tokens of text (one per word). */
const words = (tokens: number) => 'word '.repeat(tokens);

describe('setContext and setAgentDescription at once', () => {
  it('refuses the one that, with the other, leaves no room; the stored pair fits', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, compactor: new ScriptedCompactor(), limits: LIMITS });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Export' } });
    const part = Math.floor(ROOM * 0.6);
    const results = await Promise.allSettled([
      runtime.setContext(id, { projectNotes: words(part) }),
      runtime.setAgentDescription(id, { role: 'developer', instructions: words(part) }),
    ]);
    // Each alone fits: the first (in call order) is taken, the second refused with the counts.
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    const error = (results[1] as PromiseRejectedResult).reason as SessionError;
    expect(error).toBeInstanceOf(SessionError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large', room: ROOM });
    const estimate = await runtime.estimateSize(id);
    expect(estimate.breakdown.context).toBeGreaterThanOrEqual(part);
    expect(estimate.breakdown.agentDescription + estimate.breakdown.context).toBeLessThan(ROOM);
    expect(((await runtime.getSession(id)) as { state: string }).state).not.toBe('failed');
    await runtime.close();
    // What the files hold is what was taken: the description from before, the new context.
    const again = await createSessionRuntime({ root, compactor: new ScriptedCompactor(), limits: LIMITS });
    const reread = await again.estimateSize(id);
    expect(reread.breakdown).toMatchObject({
      context: estimate.breakdown.context,
      agentDescription: estimate.breakdown.agentDescription,
    });
    await again.close();
  });
});
