/**
 * With the host's store, `createSessionRuntime` refuses the options that only a store it opens
 * would take, instead of ignoring them: `readOnly: true` over a writable store would have given a
 * runtime that writes (it compacts by itself).
 */
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntimeOptions } from '../../src/runtime/types.js';
import { createMemorySessionStore, createMemoryStorage } from '../../src/store/memory-session-store.js';

const refused: [string, Partial<SessionRuntimeOptions>, RegExp][] = [
  [
    'readOnly: true over a writable store',
    { readOnly: true },
    /got readOnly: true .*store's readOnly is false/,
  ],
  ['durable: false', { durable: false }, /got durable: false and a store/],
  ['foldMinBytes', { foldMinBytes: 1024 }, /got foldMinBytes: 1024/],
  ['syncAppends', { syncAppends: 'calling-thread' }, /got syncAppends: calling-thread/],
];

describe('createSessionRuntime with a store of the host', () => {
  it.each(refused)('refuses %s, saying where to set it', async (_, option, message) => {
    const storage = createMemoryStorage();
    const store = createMemorySessionStore({ storage });
    await expect(createSessionRuntime({ store, ...option })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
    // Nothing was opened on the store: a runtime on it works afterwards.
    const runtime = await createSessionRuntime({ store });
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'f' });
    await runtime.addMessage(id, { role: 'user', content: 'hello' });
    await runtime.close();
    await store.close();
  });

  it("takes a readOnly equal to the store's", async () => {
    const storage = createMemoryStorage();
    const writer = createMemorySessionStore({ storage });
    const reader = createMemorySessionStore({ storage, readOnly: true });
    for (const [store, readOnly] of [
      [writer, false],
      [reader, true],
    ] as const) {
      const runtime = await createSessionRuntime({ store, readOnly });
      expect(await runtime.listSessions()).toEqual([]);
      await runtime.close();
    }
    await writer.close();
    await reader.close();
  });
});
