/**
 * @internal What every conformance case gets: fresh storage, stores opened on it (closed after
 * the case), a way to reopen the writer (a restart), and small assertions.
 */
import { expect } from 'vitest';
import { isSessionError, type SessionErrorCode } from '../core/errors.js';
import type { Message, SessionKey } from '../core/types.js';
import type { SessionHead, SessionStore, StoreCapabilities, StoreHooks } from '../store/contract.js';
import { KEY, recordOf } from './fixtures.js';

/** Storage a target sets up for one case: stores are opened on it, again and again. */
export interface ConformanceStorage {
  /** Opens a store on this storage (a writer unless `readOnly`). */
  open(options?: { readOnly?: boolean; hooks?: StoreHooks }): Promise<SessionStore>;
  /** Removes the storage; called after every store opened on it was closed. */
  teardown?(): Promise<void>;
  /**
   * For a store whose capabilities say `syncs` (required there): the directory its sessions' files
   * are under. The power-loss cases empty it before each cut and rewrite it as a power loss left it,
   * with no store open; files outside it (a lock held by the process, which a real power loss would
   * end) are left as they are. One case removes it, for the store's first create to make it (its
   * parent must exist, and count as durable, once a store was opened and closed).
   */
  directory?: string;
}

/**
 * What a store author hands the suite: how to set up fresh, empty storage for a case, and the
 * capabilities to test (default: the store's own `capabilities`).
 */
export interface ConformanceTarget {
  setup(): Promise<ConformanceStorage>;
  capabilities?: Partial<StoreCapabilities>;
}

/** @internal The live state of one case. */
export interface Harness {
  storage: ConformanceStorage;
  /** The writer; replaced by {@link Harness.reopen}. */
  store: SessionStore;
  capabilities: StoreCapabilities;
  open(options?: { readOnly?: boolean; hooks?: StoreHooks }): Promise<SessionStore>;
  /** Closes the writer and opens a new one on the same storage (a restart). */
  reopen(): Promise<SessionStore>;
  /** Creates the session of `key` (default {@link KEY}) in the writer. */
  create(key?: SessionKey): Promise<SessionHead>;
  /** Archive + live of a session, as loaded now. */
  everything(id: string, store?: SessionStore): Promise<Message[]>;
  /** Closes every store opened and tears the storage down. */
  dispose(): Promise<void>;
}

/** @internal Sets up a harness on fresh storage. */
export async function createHarness(target: ConformanceTarget): Promise<Harness> {
  const storage = await target.setup();
  const stores: SessionStore[] = [];
  const open = async (options: { readOnly?: boolean; hooks?: StoreHooks } = {}) => {
    const store = await storage.open(options);
    stores.push(store);
    return store;
  };
  const first = await open();
  const harness: Harness = {
    storage,
    store: first,
    capabilities: { ...first.capabilities, ...target.capabilities },
    open,
    async reopen() {
      await harness.store.close();
      harness.store = await open();
      return harness.store;
    },
    async create(key = KEY) {
      return harness.store.create(recordOf(key));
    },
    async everything(id, store = harness.store) {
      const head = await store.load(id);
      const archive = await store.readArchive(id);
      return [...archive.messages, ...head.messages];
    },
    async dispose() {
      for (const store of stores.splice(0)) await store.close().catch(() => undefined);
      await storage.teardown?.();
    },
  };
  return harness;
}

/** @internal Awaits `promise` and checks it rejected with a SessionError of `code`; returns the error. */
export async function expectCode(promise: Promise<unknown>, code: SessionErrorCode): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error, code), `expected SessionError ${code}, got ${String(error)}`).toBe(true);
  return error;
}

/** @internal Seqs of messages. */
export const seqs = (messages: readonly Message[]) => messages.map((m) => m.seq);

/** @internal A value as JSON stores it (keys set to undefined dropped). */
export const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
