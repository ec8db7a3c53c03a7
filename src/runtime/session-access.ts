/**
 * @internal How the runtime reaches a session's actor: spawned and loaded on first use, waited for
 * while it loads or stops, and asked with a reply callback that survives an actor stopping (the
 * request goes to a fresh one) and reports one that crashes.
 */
import { waitFor } from 'xstate';
import type { SessionActorRef, SessionMachineInput } from '../../machines/session.machine.js';
import type { SupervisorActorRef } from '../../machines/supervisor.machine.js';
import { SessionError, describeError } from '../core/errors.js';
import { assertSessionId, keyOfSessionId, validateKey } from '../core/ids.js';
import type { Limits, SessionKey } from '../core/types.js';
import type { SessionHandle } from './session-handle.js';
import type { SessionStore } from '../store/contract.js';
import type { SessionRegistry } from './session-registry.js';
import { booked, countsSettled } from './session-effects.js';
import { toSessionError } from './session-info.js';

/** @internal What session access needs of the runtime. */
export interface SessionAccessDeps {
  supervisor: SupervisorActorRef;
  store: SessionStore;
  /** Where the store keeps sessions, for messages. */
  location: string;
  /** Owner of the loaded sessions and of the runtime's lifecycle. */
  registry: Pick<SessionRegistry, 'entry' | 'assertRunning' | 'created'>;
  /** The actor's input for a session with this key (limits of its agent type, correction...). */
  inputOf: (sessionId: string, key: SessionKey) => SessionMachineInput;
}

/** @internal The runtime's ways to reach sessions. */
export function createSessionAccess(deps: SessionAccessDeps) {
  const { supervisor, store, registry } = deps;

  /** The session's live actor, spawned (and loaded from disk) on first use. */
  async function actorOf(sessionId: string): Promise<SessionActorRef> {
    registry.assertRunning();
    assertSessionId(sessionId);
    for (let attempt = 0; attempt < 50; attempt++) {
      const entry = supervisor.getSnapshot().context.sessions[sessionId];
      // Loaded and ready: the call is counted in the registry, which the supervisor asks before it
      // stops an actor (session-registry.ts `inUse`): nothing is sent to the supervisor.
      if (entry && !entry.closing && isReady(entry.ref.getSnapshot())) return entry.ref;
      if (entry && !entry.closing && entry.ref.getSnapshot().status === 'active') {
        supervisor.send({ type: 'SESSION.OPEN', sessionId, input: entry.input }); // marks it used
        const snapshot = await waitFor(entry.ref, (s) => !s.matches('loading') || s.status !== 'active');
        if (snapshot.matches('unavailable')) {
          // Not kept in memory: once a person repairs the files, the next call loads it afresh.
          supervisor.send({ type: 'SESSION.STOP', sessionId });
          throw toSessionError(snapshot.context.loadError, sessionId);
        }
        if (snapshot.status === 'active' && !snapshot.matches('closing')) return entry.ref;
        continue;
      }
      if (entry) {
        // On its way out (idle stop): wait until it is gone, then open it afresh.
        await waitFor(
          supervisor,
          (s) => s.context.sessions[sessionId]?.ref !== entry.ref || s.status !== 'active',
        );
        continue;
      }
      // A creation of this session being written: it is there once written (or failed).
      await registry.created(sessionId);
      const presence = await store.presence(sessionId);
      if (presence === 'absent') {
        throw new SessionError(
          'SESSION_NOT_FOUND',
          'runtime',
          `no session "${sessionId}" under ${deps.location}; create it with createSession(key)`,
          {
            details: { sessionId },
          },
        );
      }
      // Ids are derived from keys: the key (for the agent type's limits) needs no read. A damaged
      // session is loaded by its actor, which reports why.
      const key = validateKey(keyOfSessionId(sessionId) ?? (await store.load(sessionId)).record.key);
      supervisor.send({ type: 'SESSION.OPEN', sessionId, input: deps.inputOf(sessionId, key) });
    }
    throw new SessionError(
      'SESSION_UNAVAILABLE',
      'runtime',
      `session ${sessionId} could not be opened: its actor keeps stopping`,
    );
  }

  /**
   * Stops the session's actor once the writes it has taken are done, then loads the session again
   * from its files: what a restart of the runtime does, for this one session.
   */
  async function reopen(sessionId: string): Promise<SessionActorRef> {
    registry.assertRunning();
    assertSessionId(sessionId);
    const entry = supervisor.getSnapshot().context.sessions[sessionId];
    if (entry) {
      supervisor.send({ type: 'SESSION.STOP', sessionId });
      await waitFor(
        supervisor,
        (s) => s.context.sessions[sessionId]?.ref !== entry.ref || s.status !== 'active',
      );
    }
    return actorOf(sessionId);
  }

  async function loadedDir(
    sessionId: string,
  ): Promise<{ ref: SessionActorRef; dir: SessionHandle; limits: Limits }> {
    const ref = await actorOf(sessionId);
    const entry = registry.entry(sessionId);
    if (!entry)
      throw new SessionError(
        'SESSION_UNAVAILABLE',
        'runtime',
        `session ${sessionId} is not loaded; try again`,
        { retryable: true },
      );
    await countsSettled(entry); // reads see exact counts, never the bounds of appends being counted
    return { ref, dir: entry.dir, limits: entry.limits };
  }

  /** Resolves once the session's actor has taken every batch whose callers were answered. */
  async function bookedBy(sessionId: string): Promise<void> {
    for (
      let entry = registry.entry(sessionId);
      entry?.booking !== undefined;
      entry = registry.entry(sessionId)
    )
      await booked(entry);
  }

  /** The loaded session, refusing writes to an archived one. */
  function assertNotArchived(sessionId: string): void {
    if (registry.entry(sessionId)?.dir.record?.status === 'archived') {
      throw new SessionError(
        'SESSION_ARCHIVED',
        'runtime',
        `session ${sessionId} is archived: it can be read and exported, not changed; create a new session for new work`,
        {
          details: { sessionId },
        },
      );
    }
  }

  async function writableDir(sessionId: string) {
    const loaded = await loadedDir(sessionId);
    assertNotArchived(sessionId);
    return loaded;
  }

  /**
   * The requests waiting for an actor's reply, told if it stops or crashes first: one subscription
   * per actor for its life, instead of one made and ended per request.
   */
  const waiting = new WeakMap<SessionActorRef, Set<Waiter>>();
  function waitersOf(ref: SessionActorRef): Set<Waiter> {
    const known = waiting.get(ref);
    if (known !== undefined) return known;
    const waiters = new Set<Waiter>();
    waiting.set(ref, waiters);
    const end = (tell: (waiter: Waiter) => void) => {
      for (const waiter of waiters) tell(waiter);
      waiters.clear();
    };
    ref.subscribe({
      complete: () => end((w) => w.stopped()),
      error: (error) => end((w) => w.crashed(error)),
    });
    return waiters;
  }

  /**
   * Sends a request (append, compact, clear) to the session's actor and waits for its reply;
   * an archived session refuses it. An actor that was stopped
   * (idle sweep) between lookup and send, or that is closing, has written nothing: the request
   * goes to a fresh actor instead. One that crashes before answering is reported.
   */
  async function send<T extends { ok: boolean; error?: unknown }>(
    sessionId: string,
    build: (reply: (value: T) => void) => Parameters<SessionActorRef['send']>[0],
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const ref = await actorOf(sessionId);
      // After the appends its callers were told are stored: the actor holds them by then.
      await bookedBy(sessionId);
      assertNotArchived(sessionId); // every request sent to an actor changes its session
      const reply = await new Promise<T | null>((resolve, reject) => {
        if (ref.getSnapshot().status !== 'active') return resolve(null);
        const waiters = waitersOf(ref);
        const waiter: Waiter = {
          stopped: () => resolve(null),
          crashed: (error) =>
            reject(
              new SessionError(
                'SESSION_UNAVAILABLE',
                'runtime',
                `session ${sessionId}: its actor crashed (${describeError(error)}) ` +
                  `and is being reloaded from disk; check getMessages before sending again`,
                { cause: error, retryable: true },
              ),
            ),
        };
        waiters.add(waiter);
        ref.send(
          build((value) => {
            waiters.delete(waiter);
            resolve(value);
          }),
        );
      });
      const closing =
        reply !== null &&
        !reply.ok &&
        (reply.error as { code?: unknown } | null)?.code === 'SESSION_UNAVAILABLE';
      if ((reply === null || closing) && attempt < 3) continue;
      if (reply === null)
        throw new SessionError(
          'SESSION_UNAVAILABLE',
          'runtime',
          `session ${sessionId} keeps stopping; try again`,
          { retryable: true },
        );
      return reply;
    }
  }

  return { actorOf, reopen, loadedDir, writableDir, send };
}

/** @internal The runtime's ways to reach sessions, as {@link createSessionAccess} returns them. */
export type SessionAccess = ReturnType<typeof createSessionAccess>;

/** @internal The loaded session of a call. */
export type LoadedSessionRef = { ref: SessionActorRef; dir: SessionHandle; limits: Limits };

/** A request waiting for an actor's reply: told if the actor stops or crashes first. */
interface Waiter {
  stopped(): void;
  crashed(error: unknown): void;
}

/** @internal An actor that can take requests now: loaded, not failed to load, not closing. */
function isReady(snapshot: ReturnType<SessionActorRef['getSnapshot']>): boolean {
  // `ready` is a parallel state: the value is `{ ready: {...} }` there and a string elsewhere.
  const value: unknown = snapshot.value;
  return snapshot.status === 'active' && typeof value === 'object' && value !== null && 'ready' in value;
}
