/**
 * A session the JSON-file store has just created is not read back: the load that follows the
 * create (the runtime's, to serve it) takes what create wrote durably, and a writer's presence
 * check of a session it holds loaded reads nothing. What that load returns must be what a fresh
 * store reads from the files, and anything done to the session in between must be seen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ID, KEY, checkpointOf, messages, recordOf } from '../../src/conformance/fixtures.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import type { InitialFiles } from '../../src/store/contract.js';
import { tempRoot } from '../helpers/temp-root.js';

const FILES: InitialFiles = {
  context: { featureName: 'Parser', dependencies: ['lexer'] },
  agentDescription: { role: 'dev', instructions: 'Write the parser', tools: ['Edit'] },
  checkpoint: checkpointOf(0, 0, -1, 0),
  counts: {
    description: { tokens: 7, counter: 'approximate/x', hash: '00000001' },
    context: { tokens: 5, counter: 'approximate/x', hash: '00000002' },
  },
};

const opened: JsonFileSessionStore[] = [];
async function openStore(root: string): Promise<JsonFileSessionStore> {
  const store = await JsonFileSessionStore.open({ root });
  opened.push(store);
  return store;
}
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

/** What a store that did not write the session reads of it. */
async function readAfresh(root: string, store: JsonFileSessionStore): Promise<unknown> {
  await store.close();
  const fresh = await openStore(root);
  return fresh.load(ID);
}

describe('a session the store has just created', () => {
  it('loads as a fresh store reads it from its files', async () => {
    const root = await tempRoot();
    const store = await openStore(root);
    const created = await store.create(recordOf(KEY), FILES);
    const loaded = await store.load(ID);
    expect(loaded).toEqual(created);
    expect(loaded.context).toEqual(FILES.context);
    expect(loaded.agentDescription).toEqual(FILES.agentDescription);
    expect(loaded.checkpoint).toEqual(FILES.checkpoint);
    expect(loaded.counts.description).toEqual(FILES.counts!.description);
    expect(await readAfresh(root, store)).toEqual(loaded);
  });

  it('hands out copies: a change to one head is not in the next', async () => {
    const root = await tempRoot();
    const store = await openStore(root);
    const created = await store.create(recordOf(KEY), FILES);
    created.context!.featureName = 'changed by the caller';
    const loaded = await store.load(ID);
    expect(loaded.context).toEqual(FILES.context);
    loaded.record.status = 'archived';
    expect((await store.load(ID)).record.status).toBe('active');
  });

  it('sees what was appended or written between the create and the load', async () => {
    const root = await tempRoot();
    const store = await openStore(root);
    await store.create(recordOf(KEY), FILES);
    await store.append(ID, messages(0, 3));
    const afterAppend = await store.load(ID);
    expect(afterAppend.messages.map((m) => m.seq)).toEqual([0, 1, 2]);
    expect(afterAppend.lastSeq).toBe(2);

    const other = await tempRoot();
    const second = await openStore(other);
    await second.create(recordOf(KEY), FILES);
    await second.writeContext(ID, { featureName: 'Renamed' });
    expect((await second.load(ID)).context).toEqual({ featureName: 'Renamed' });
    expect(await readAfresh(other, second)).toMatchObject({ context: { featureName: 'Renamed' } });
  });

  it('is read from its files again after it was released', async () => {
    const root = await tempRoot();
    const store = await openStore(root);
    await store.create(recordOf(KEY), FILES);
    await store.release(ID);
    const loaded = await store.load(ID);
    expect(loaded.context).toEqual(FILES.context);
    expect(loaded.messages).toEqual([]);
    await store.append(ID, messages(0, 1));
    expect((await store.load(ID)).lastSeq).toBe(0);
  });

  it('is present to its writer, and absent before it is created', async () => {
    const root = await tempRoot();
    const store = await openStore(root);
    expect(await store.presence(ID)).toBe('absent');
    await store.create(recordOf(KEY), FILES);
    expect(await store.presence(ID)).toBe('present');
    await store.close();
    const reader = await JsonFileSessionStore.open({ root, readOnly: true });
    opened.push(reader);
    expect(await reader.presence(ID)).toBe('present');
  });
});
