/**
 * A loaded session's checkpoint is rendered once for all its requests: the session's handle
 * deep-freezes the checkpoint a load (and a commit) hands it, which a request build then renders
 * once (src/runtime/session-handle.ts, src/request/build-request.ts). The requests stay the same.
 */
import { describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { Checkpoint } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionStore } from '../../src/store/contract.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY = { type: 'feature', agentType: 'dev', featureId: 'rendered-once' } as const;

/** The store, with the reads of the loaded checkpoint's summary tallied (what a rendering reads). */
function watchingLoads(store: SessionStore, reads: { n: number }): SessionStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === 'load') {
        return async (id: string) => {
          const head = await target.load(id);
          const checkpoint = head.checkpoint as Checkpoint;
          const summary = checkpoint.summary;
          Object.defineProperty(checkpoint, 'summary', {
            enumerable: true,
            get: () => {
              reads.n++;
              return summary;
            },
          });
          return head;
        };
      }
      const value: unknown = Reflect.get(target, name, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a loaded checkpoint in requests', () => {
  it('is rendered once for all the requests of the session, which stay the same', async () => {
    const root = await tempRoot();
    const estimator = createTokenEstimator();
    const compactor = new OfflineCompactor({ estimator });
    const first = await createSessionRuntime({ root, estimator, compactor });
    const { id } = await first.createSession(KEY);
    for (let i = 0; i < 8; i++)
      await first.addMessage(id, {
        role: i % 2 === 0 ? 'user' : 'assistant',
        content: `step ${i}: ran the tests`,
      });
    await first.compact(id, { keepRecentTokens: 0 });
    await first.addMessage(id, { role: 'user', content: 'go on' });
    const before = await first.previewRequest(id);
    await first.close();

    const reads = { n: 0 };
    const store = watchingLoads(await JsonFileSessionStore.open({ root }), reads);
    const second = await createSessionRuntime({ root, estimator, compactor, store });
    const loaded = await second.previewRequest(id);
    expect(reads.n).toBeGreaterThan(0);
    reads.n = 0;
    const again = await second.previewRequest(id);
    // Before: the checkpoint was rendered again at every request.
    expect(reads.n).toBe(0);
    expect(again).toEqual(loaded);
    expect(loaded.systemPrompt).toBe(before.systemPrompt);
    expect(loaded.totalTokens).toBe(before.totalTokens);
    await second.close();
  });
});
