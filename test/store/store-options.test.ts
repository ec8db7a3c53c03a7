/**
 * The JSON-file store refuses options it would otherwise read as a silent default (a misspelt
 * `syncAppends`) or as a log that never folds (`foldMinBytes: NaN`), before it takes the root's
 * lock, through the store and through `createSessionRuntime`.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { JsonFileSessionStore, type SessionStoreOptions } from '../../src/store/session-store.js';
import { tempRoot } from '../helpers/temp-root.js';

const refused: [string, Partial<SessionStoreOptions>, RegExp][] = [
  ['a misspelt syncAppends', { syncAppends: 'calling_thread' as 'calling-thread' }, /syncAppends must be/],
  ['foldMinBytes NaN', { foldMinBytes: Number.NaN }, /foldMinBytes must be a number of bytes/],
  ['a negative foldMinBytes', { foldMinBytes: -1 }, /foldMinBytes must be/],
  [
    'segmentCacheBytes as a string',
    { segmentCacheBytes: '64' as unknown as number },
    /segmentCacheBytes must be/,
  ],
];

describe('the JSON-file store checks its options', () => {
  it.each(refused)('refuses %s, naming the option, and touches nothing', async (_, bad, message) => {
    const root = await tempRoot();
    const store = JsonFileSessionStore.open({ root, ...bad });
    await expect(store).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
    if (!('segmentCacheBytes' in bad)) {
      // segmentCacheBytes is the store's alone; the runtime passes the other two on.
      await expect(createSessionRuntime({ root, ...bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      });
    }
    expect(await readdir(root)).toEqual([]); // no lock, no .dagent
  });

  it('takes both values of syncAppends and byte counts of 0', async () => {
    for (const options of [
      { syncAppends: 'thread-pool' },
      { syncAppends: 'calling-thread', foldMinBytes: 0, segmentCacheBytes: 0 },
    ] as const) {
      const store = await JsonFileSessionStore.open({ root: await tempRoot(), ...options });
      await store.close();
    }
  });
});
