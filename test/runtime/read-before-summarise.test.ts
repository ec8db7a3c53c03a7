/**
 * A read made right after the append that brought a session to its threshold is answered before
 * the compaction's summarise does its work (recording, fitting and counting the checkpoint, the
 * compactor's call: milliseconds of this thread): summarise starts a turn of the event loop later.
 * Before, the summarise started in the actor's bookkeeping of the batch, which the read waits for,
 * and ran ahead of the read's last steps back to its caller.
 */
import { describe, expect, it } from 'vitest';
import type { Compactor } from '../../src/compaction/compactor.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'read-before-summarise' };
const texts = Array.from({ length: 40 }, (_, i) => `step ${i}: ${'the tests pass again; '.repeat(70 + i)}`);

describe('a read after the append that reaches the threshold', () => {
  it('is answered before the compaction summarises', async () => {
    const estimator = createTokenEstimator();
    const offline = new OfflineCompactor({ estimator });
    const order: string[] = [];
    const compactor: Compactor = {
      name: offline.name,
      maxInputTokens: offline.maxInputTokens,
      compact: (input, options) => {
        order.push('compactor');
        return offline.compact(input, options);
      },
    };
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      estimator,
      compactor,
      limits: { maxTokens: 8_000 },
    });
    const { id } = await runtime.createSession(KEY);
    let started = false;
    runtime.subscribe((event) => {
      if (event.type === 'session.compaction.started') started = true;
    });
    let reached = false;
    for (const [i, content] of texts.entries()) {
      await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content });
      const read = runtime.estimateSize(id).then((size) => {
        order.push('read');
        return size;
      });
      const size = await read;
      if (started) {
        reached = true;
        expect(size.needsCompaction).toBe(true);
        break;
      }
    }
    expect(reached).toBe(true);
    // Before: ['compactor', 'read'] (the read waited for the summarise's work up to its compactor).
    await runtime.compact(id); // joins the threshold compaction
    expect(order.slice(-2)).toEqual(['read', 'compactor']);
    await runtime.close();
  });
});
