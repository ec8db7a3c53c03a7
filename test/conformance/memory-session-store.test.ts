/**
 * The store conformance suite against the memory store: every case on fresh storage, stores
 * opened on it sharing it (a reopen is a new store on the same storage).
 */
import { testSessionStore } from '../../src/conformance/index.js';
import { createMemorySessionStore, createMemoryStorage } from '../../src/store/memory-session-store.js';

testSessionStore('memory store', {
  async setup() {
    const storage = createMemoryStorage();
    return { open: async (options = {}) => createMemorySessionStore({ storage, ...options }) };
  },
});
