/**
 * @internal What the runtime learns of its sessions, from XState inspection events when its caller
 * inspects, else from the session actors themselves: each session actor's emitted events,
 * republished as `session.*` events, and its state changes, published as `session.state.changed`
 * and, when it matters to the supervisor (not for appends), passed on to it.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import {
  machineStateOf,
  type SessionActorRef,
  type SessionMachineEmitted,
} from '../../machines/session.machine.js';
import { sessionIdOfActor } from '../../machines/supervisor.machine.js';
import type { SessionMachineState } from '../core/types.js';
import { sessionEventsOf, type SessionEvent } from './events.js';
import type { SessionRegistry } from './session-registry.js';

/** @internal What a runtime learns of its sessions, by one of two routes. */
export interface SessionObserver {
  /** Fed XState inspection events: the route when the runtime's caller inspects anyway. */
  inspect: (event: InspectionEvent) => void;
  /**
   * Fed the supervisor's session actors on each supervisor snapshot: the route when nobody
   * inspects, so that XState builds no inspection event for every event, microstep and action
   * of every append. A new actor is followed through its own snapshots and emitted events.
   */
  follow: (refs: Iterable<AnyActorRef>) => void;
}

/**
 * @internal An observer for a runtime: each session actor's emitted events, republished, and its
 * state changes, noted, published and passed on to the supervisor, whichever route feeds it.
 */
export function createSessionObserver(deps: {
  publish: (event: SessionEvent) => void;
  at: () => string;
  compactor: string;
  tellSupervisor: (sessionId: string, state: SessionMachineState) => void;
  /** Keeps each session's state as last seen. */
  registry: Pick<SessionRegistry, 'noteState'>;
  /** Whether anyone listens to the runtime's events: when nobody does, none is built. */
  listening?: () => boolean;
}): SessionObserver {
  const watched = new WeakSet<object>();
  const listening = deps.listening ?? (() => true);
  /** Republishes the actor's emitted events, once per actor. */
  const watch = (ref: AnyActorRef): boolean => {
    if (watched.has(ref)) return false;
    watched.add(ref);
    ref.on('*', (emitted: { type: string }) => {
      if (!listening()) return;
      for (const e of sessionEventsOf(emitted as SessionMachineEmitted, deps.compactor, deps.at()))
        deps.publish(e);
    });
    return true;
  };
  const noteSnapshot = (sessionId: string, snapshot: unknown): void => {
    const state = machineStateOf(snapshot as ReturnType<SessionActorRef['getSnapshot']>);
    const previous = deps.registry.noteState(sessionId, state);
    if (state === previous) return;
    if (listening())
      deps.publish({ type: 'session.state.changed', sessionId, at: deps.at(), from: previous, to: state });
    // An append in flight has a caller holding a lease on the session: for the supervisor, which
    // only asks whether an actor may be stopped, `appending` is `idle`, and an append costs it nothing.
    if (supervised(state) !== supervised(previous)) deps.tellSupervisor(sessionId, supervised(state));
  };
  const sessionIdOf = (ref: AnyActorRef): string | null =>
    typeof ref.id === 'string' ? sessionIdOfActor(ref.id) : null;
  return {
    inspect: (event) => {
      // Most inspection events (each event received, microstep, action) tell the runtime nothing.
      if (event.type !== '@xstate.actor' && event.type !== '@xstate.snapshot') return;
      const ref = event.actorRef as AnyActorRef;
      const sessionId = sessionIdOf(ref);
      if (sessionId === null) return;
      if (event.type === '@xstate.actor') watch(ref);
      else noteSnapshot(sessionId, event.snapshot);
    },
    follow: (refs) => {
      for (const ref of refs) {
        const sessionId = sessionIdOf(ref);
        if (sessionId === null || !watch(ref)) continue;
        // Started before the supervisor's observers hear of it (XState starts spawned actors
        // first), and nothing happened to it since: its snapshot now is its first one.
        noteSnapshot(sessionId, ref.getSnapshot());
        ref.subscribe({
          next: (snapshot) => noteSnapshot(sessionId, snapshot),
          // A crash (the supervisor hears of it from XState and restarts the session): `closed`, as
          // the inspection route sees it. A stop, which inspection does not report, reports nothing.
          error: () => noteSnapshot(sessionId, ref.getSnapshot()),
        });
      }
    },
  };
}

/** @internal The state as the supervisor needs it: `appending` is covered by its callers' leases. */
function supervised(state: SessionMachineState): SessionMachineState {
  return state === 'appending' ? 'idle' : state;
}
