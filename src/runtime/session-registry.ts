/**
 * @internal The one owner of a runtime's loaded sessions and of the runtime's lifecycle.
 *
 * One entry per session id holds all the runtime knows of that session: its loaded head and
 * limits (`load` fills them, the actor's `close` effect empties them through `unload`), its key
 * index, the commit in flight (which `unload` and `closeAll` wait for), the creation being
 * written (and its error while that creation is in doubt), the calls using it and when it was
 * last used, and its actor's state as last seen (its snapshots). No other module keeps a map of
 * sessions: they ask here. The session's actor itself belongs to the supervisor's statechart,
 * which spawns and stops it, and which asks here (as its {@link SessionUses}) which sessions calls
 * are using when it sweeps or applies its cap.
 *
 * The lifecycle is one state, `open -> closing -> closed`: `closing` refuses new calls and lets
 * the calls already made finish; `closed` means nothing reaches a session any more (the
 * supervisor is being stopped), so a call that was still inside ends with the closed error.
 *
 * A call tells the supervisor nothing: it asks. A session counts as in use from its first call's
 * start until the turn after its last call ended (`setImmediate`), so that a call made as soon as
 * the previous one resolved (a loop of `await addMessage(...)`) takes it over and its actor is
 * never stopped in between. Then `released` runs, which tells the supervisor only while it is past
 * its cap, so that the count comes back under it at once.
 */
import type { SessionUses } from '../../machines/supervisor.machine.js';
import type { SessionError } from '../core/errors.js';
import type { Limits, SessionMachineState } from '../core/types.js';
import type { KeyIndex } from './idempotency.js';
import type { SessionHandle } from './session-handle.js';

/** @internal The runtime's lifecycle. */
export type RuntimeState = 'open' | 'closing' | 'closed';

/** @internal A session whose actor is loaded. */
export interface LoadedSession {
  dir: SessionHandle;
  limits: Limits;
  /** Its idempotency keys, read on the first keyed write (dropped with the session). */
  keys?: KeyIndex;
  /** Exact counts of acknowledged appends still being taken (append.ts): waited for before an archive. */
  counting?: Set<Promise<void>>;
  /**
   * Counts on this thread the exact counts of acknowledged appends still at the counting worker,
   * if they are short (append-counts.ts): whoever waits for `counting` calls it first, its thread
   * idle meanwhile. The worker's answer, the same number, is then dropped.
   */
  countHere?: () => void;
  /**
   * Set while the callers of a durable batch have been answered and its actor has not taken the
   * batch into its figures yet (session-effects.ts, `persist`): resolves once it has. Reads, and
   * a late count's `COUNTED`, wait for it.
   */
  booking?: Promise<void>;
  /**
   * Set with `booking`: hands the batch to the actor now instead of at the end of the event loop's
   * turn. Whoever waits for the booking calls it first: a caller that waits has resumed already.
   */
  takeBooking?: () => void;
}

/** @internal What the registry needs of the runtime. */
export interface SessionRegistryOptions {
  /** The session is no longer in use: its last call ended in the turn before. */
  released(sessionId: string): void;
  /** The error of a call refused because the runtime is closing or closed. */
  closedError(): Error;
}

/** @internal The loaded sessions of a runtime and its lifecycle; see the module comment. */
export interface SessionRegistry extends SessionUses {
  readonly state: RuntimeState;
  /**
   * Starts a call: refused with the closed error unless the runtime is open; with a session id,
   * the session is in use (and used now) until the returned function ends the call (a second call
   * of it does nothing).
   */
  acquire(sessionId?: string): () => void;
  /** Inside a call already made: throws the closed error once the runtime is closed. */
  assertRunning(): void;
  /** The loaded session, or undefined. */
  entry(sessionId: string): LoadedSession | undefined;
  /** Records a session its actor has loaded. */
  load(sessionId: string, session: LoadedSession): void;
  /**
   * Lets a loaded session go: waits for its commit in flight, runs `close` (which writes its
   * figures and releases its handle), then forgets it even when `close` fails.
   */
  unload(sessionId: string, close: (session: LoadedSession) => Promise<void>): Promise<void>;
  /** Marks `work` as the session's commit in flight until it settles; returns it. */
  whileCommitting<T>(sessionId: string, work: Promise<T>): Promise<T>;
  /**
   * Runs `write` (a session's creation) unless one for this id is already running, whose promise
   * is then returned: concurrent creations of one session write it once.
   */
  create(sessionId: string, write: () => Promise<void>): Promise<void>;
  /** Resolves when no creation of this session is being written (a failed one counts as ended). */
  created(sessionId: string): Promise<void>;
  /**
   * Notes (an error) or forgets (undefined) that the session's creation is in the files but not
   * durable: each load of it holds that doubt until a retried create or a reopen forgets it.
   */
  noteCreatedInDoubt(sessionId: string, error: SessionError | undefined): void;
  /** The error of the session's creation in doubt (see {@link noteCreatedInDoubt}), or undefined. */
  createdInDoubt(sessionId: string): SessionError | undefined;
  /** Records the state its actor was last seen in (`closed` forgets it); returns the one before. */
  noteState(sessionId: string, state: SessionMachineState): SessionMachineState;
  /** Whether a call uses the session, or its last ended this turn (the supervisor does not stop it). */
  inUse(sessionId: string): boolean;
  /** When a call on the session last started or ended, on a counter that only grows; 0: never. */
  lastUsed(sessionId: string): number;
  /**
   * Closes the runtime: refuses new calls, waits for the calls already made, then (closed) for
   * every commit in flight, and runs `stop`. A second call returns at once.
   */
  closeAll(stop: () => Promise<void>): Promise<void>;
}

interface Entry {
  loaded?: LoadedSession;
  commit?: Promise<unknown>;
  creating?: Promise<void>;
  /** Its creation's error, while the create is in the files but not durable and not confirmed. */
  createdInDoubt?: SessionError;
  /** Its actor's state as last seen, unless closed. */
  state?: Exclude<SessionMachineState, 'closed'>;
  /** Calls using the session now. */
  calls: number;
  /** The use counter when a call on it last started or ended (0: never). */
  used: number;
  /** Its last call ended this turn: still in use until the next (a call made at once takes over). */
  ending: boolean;
}

const ignore = () => undefined;

/**
 * @internal Creates an empty, open {@link SessionRegistry}.
 *
 * @example
 * ```ts
 * const registry = createSessionRegistry({ released: (id) => tellIfOverCap(id), closedError });
 * const release = registry.acquire(id);
 * try { await work(registry.entry(id)); } finally { release(); }
 * await registry.closeAll(stopSupervisor);
 * ```
 */
export function createSessionRegistry(options: SessionRegistryOptions): SessionRegistry {
  const entries = new Map<string, Entry>();
  let state: RuntimeState = 'open';
  /** Calls in flight, all sessions together, and who waits for them to end (closeAll). */
  let calls = 0;
  let drained: (() => void) | null = null;
  /** Counts the starts and ends of calls on sessions: orders them by last use. */
  let uses = 0;
  /** Sessions whose last call ended this turn: released at the next (unless used again). */
  const ending = new Set<string>();
  let flushing = false;

  const entryOf = (id: string): Entry => {
    let entry = entries.get(id);
    if (!entry) entries.set(id, (entry = { calls: 0, used: 0, ending: false }));
    return entry;
  };
  /** An entry that holds nothing is dropped: the map never outgrows the sessions in use. */
  const prune = (id: string): void => {
    const e = entries.get(id);
    if (!e || e.loaded || e.commit || e.creating || e.createdInDoubt || e.state || e.calls > 0 || e.ending)
      return;
    entries.delete(id);
  };

  function flush(): void {
    flushing = false;
    const ids = [...ending];
    ending.clear();
    for (const id of ids) {
      const entry = entries.get(id);
      if (!entry) continue;
      entry.ending = false;
      if (entry.calls > 0) continue;
      options.released(id);
      prune(id);
    }
  }

  function endCall(): void {
    calls -= 1;
    if (calls === 0) drained?.();
  }

  return {
    get state() {
      return state;
    },

    acquire(sessionId) {
      if (state !== 'open') throw options.closedError();
      calls += 1;
      let released = false;
      if (sessionId === undefined) {
        return () => {
          if (released) return;
          released = true;
          endCall();
        };
      }
      const entry = entryOf(sessionId);
      entry.calls += 1;
      entry.used = ++uses;
      return () => {
        if (released) return;
        released = true;
        entry.calls -= 1;
        entry.used = ++uses;
        if (entry.calls === 0) {
          entry.ending = true;
          ending.add(sessionId);
          if (!flushing) {
            flushing = true;
            setImmediate(flush);
          }
        }
        endCall();
      };
    },

    assertRunning() {
      if (state === 'closed') throw options.closedError();
    },

    entry: (sessionId) => entries.get(sessionId)?.loaded,

    load(sessionId, session) {
      entryOf(sessionId).loaded = session;
    },

    async unload(sessionId, close) {
      const entry = entries.get(sessionId);
      const loaded = entry?.loaded;
      if (!entry || !loaded) return;
      // A commit is never cut in the middle: the session goes once it is written.
      await entry.commit;
      try {
        await close(loaded);
      } finally {
        if (entry.loaded === loaded) delete entry.loaded;
        prune(sessionId);
      }
    },

    whileCommitting(sessionId, work) {
      const entry = entryOf(sessionId);
      const settled = work.then(ignore, ignore);
      entry.commit = settled;
      void settled.then(() => {
        if (entry.commit === settled) delete entry.commit;
        prune(sessionId);
      });
      return work;
    },

    create(sessionId, write) {
      const entry = entryOf(sessionId);
      if (entry.creating) return entry.creating;
      const work = (async () => write())();
      const mine = work.finally(() => {
        if (entry.creating === mine) delete entry.creating;
        prune(sessionId);
      });
      entry.creating = mine;
      return mine;
    },

    async created(sessionId) {
      await entries.get(sessionId)?.creating?.catch(ignore);
    },

    noteCreatedInDoubt(sessionId, error) {
      if (error !== undefined) entryOf(sessionId).createdInDoubt = error;
      else if (entries.has(sessionId)) {
        delete entries.get(sessionId)!.createdInDoubt;
        prune(sessionId);
      }
    },

    createdInDoubt: (sessionId) => entries.get(sessionId)?.createdInDoubt,

    noteState(sessionId, state) {
      const previous = entries.get(sessionId)?.state ?? 'closed';
      if (state === 'closed') {
        const entry = entries.get(sessionId);
        if (entry) delete entry.state;
        prune(sessionId);
      } else entryOf(sessionId).state = state;
      return previous;
    },

    inUse: (sessionId) => {
      const entry = entries.get(sessionId);
      return entry !== undefined && (entry.calls > 0 || entry.ending);
    },

    lastUsed: (sessionId) => entries.get(sessionId)?.used ?? 0,

    async closeAll(stop) {
      if (state !== 'open') return;
      state = 'closing';
      // Calls already made finish first (an append in flight is written and acknowledged).
      if (calls > 0) await new Promise<void>((resolve) => (drained = resolve));
      state = 'closed';
      await Promise.all([...entries.values()].map((entry) => entry.commit));
      await stop();
    },
  };
}
