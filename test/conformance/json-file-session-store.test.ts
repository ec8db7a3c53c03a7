/**
 * Runs the SessionStore conformance suite against JsonFileSessionStore: once with the defaults,
 * once folding chat.log into chat.json after every 1 KiB so that every case also crosses folds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { JsonFileSessionStore, type SessionStoreOptions } from '../../src/store/session-store.js';
import { runSessionStoreConformance, type SessionStoreFactory } from './session-store-conformance.js';

function jsonFileStore(options: Omit<SessionStoreOptions, 'root'> = {}): SessionStoreFactory {
  return async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-conformance-'));
    const open = (extra: { readOnly?: boolean } = {}) =>
      JsonFileSessionStore.open({ root, ...options, ...extra });
    return { store: await open(), open, cleanup: () => rm(root, { recursive: true, force: true }) };
  };
}

runSessionStoreConformance('JsonFileSessionStore', jsonFileStore());
runSessionStoreConformance(
  'JsonFileSessionStore, folding every 1 KiB',
  jsonFileStore({ foldMinBytes: 1024 }),
);
