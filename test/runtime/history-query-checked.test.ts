/**
 * `getHistory`'s query names are checked like its values: a misspelt one is refused, naming it.
 * Before, `{ limt: 2 }` returned the whole history, however long.
 */
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { HistoryQuery } from '../../src/runtime/history.js';
import { tempRoot } from '../helpers/temp-root.js';

describe('getHistory checks the names of its query', () => {
  it('refuses a misspelt name, naming it, and takes the right ones', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'f' });
    for (let i = 0; i < 5; i++) await runtime.addMessage(id, { role: 'user', content: `m${i}` });
    await expect(runtime.getHistory(id, { limt: 2 } as HistoryQuery)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/"limt" is not an option; the options are after, before, limit, order/),
    });
    expect((await runtime.getHistory(id, { limit: 2 })).map((m) => m.seq)).toEqual([4, 3]);
    // An undefined value says nothing: taken, as a query without it.
    const loose = { limit: 2, page: undefined } as HistoryQuery;
    expect((await runtime.getHistory(id, loose)).map((m) => m.seq)).toEqual([4, 3]);
    await runtime.close();
  });
});
