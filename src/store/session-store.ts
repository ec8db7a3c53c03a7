/**
 * The session store: every session directory under `<root>/.dagent/sessions/`, behind one
 * write lock per root.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { assertSessionId } from '../core/ids.js';
import { isErrno } from './durable-fs.js';
import { ioError } from './io-error.js';
import { acquireRootLock, type RootLock } from './root-lock.js';
import { SessionDirectory } from './session-directory.js';

/** Options of {@link JsonFileSessionStore.open}. */
export interface SessionStoreOptions {
  /** Directory whose `.dagent/sessions/` holds the sessions. */
  root: string;
  /** Open without the write lock; every write is refused. Default false. */
  readOnly?: boolean;
  /** fsync files and directories (default true). Turn off only for throwaway data. */
  durable?: boolean;
  /** Log size past which chat.log is folded into chat.json (default 256 KiB). */
  foldMinBytes?: number;
  /** Shown to a second writer that is refused. */
  description?: string;
}

/** Where sessions live, and how to open one. The runtime depends on this, not on a class. */
export interface SessionStore {
  readonly root: string;
  readonly sessionsDir: string;
  readonly readOnly: boolean;
  /** Ids of the session directories on disk (and links to some), sorted. */
  listSessionIds(): Promise<string[]>;
  /** The files of one session (not loaded yet). @throws SessionError `INVALID_KEY` for an unsafe id. */
  session(id: string): SessionDirectory;
  /** Releases the lock. Session directories must be closed first. */
  close(): Promise<void>;
}

/**
 * The store on JSON files through lowdb, one directory per session.
 *
 * @example
 * ```ts
 * const store = await JsonFileSessionStore.open({ root: '/repo' })
 * const dir = store.session('feature--f1--pm'); const loaded = await dir.load()
 * await store.close()
 * ```
 */
export class JsonFileSessionStore implements SessionStore {
  readonly root: string;
  readonly sessionsDir: string;
  readonly readOnly: boolean;
  readonly #lock: RootLock | null;
  readonly #options: SessionStoreOptions;

  private constructor(options: SessionStoreOptions, lock: RootLock | null) {
    this.root = path.resolve(options.root);
    this.sessionsDir = path.join(this.root, '.dagent', 'sessions');
    this.readOnly = options.readOnly ?? false;
    this.#lock = lock;
    this.#options = options;
  }

  /**
   * Opens the store, taking the root's write lock unless `readOnly`.
   * @throws SessionError `ROOT_LOCKED` naming the holder when another writer has the root.
   */
  static async open(options: SessionStoreOptions): Promise<JsonFileSessionStore> {
    const lock = options.readOnly
      ? null
      : await acquireRootLock(path.resolve(options.root), options.description);
    return new JsonFileSessionStore(options, lock);
  }

  async listSessionIds(): Promise<string[]> {
    try {
      const entries = await readdir(this.sessionsDir, { withFileTypes: true });
      // Links too: a session directory linked out of the root must show up, as damaged.
      return entries
        .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw ioError(error, this.sessionsDir, 'list');
    }
  }

  session(id: string): SessionDirectory {
    assertSessionId(id);
    return new SessionDirectory(this.sessionsDir, id, {
      durable: this.#options.durable ?? true,
      readOnly: this.readOnly,
      root: this.root,
      ...(this.#options.foldMinBytes === undefined ? {} : { foldMinBytes: this.#options.foldMinBytes }),
    });
  }

  async close(): Promise<void> {
    await this.#lock?.release();
  }
}
