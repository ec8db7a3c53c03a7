/**
 * @internal What the runtime learns of its sessions from XState inspection events: each session
 * actor's emitted events, republished as `session.*` events, and its state changes, published as
 * `session.state.changed` and, when it matters to the supervisor (not for appends), passed on to it.
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

/** @internal An inspection observer for a runtime. */
export function createSessionObserver(deps: {
  publish: (event: SessionEvent) => void;
  at: () => string;
  compactor: string;
  tellSupervisor: (sessionId: string, state: SessionMachineState) => void;
  /** Keeps each session's state as last seen. */
  registry: Pick<SessionRegistry, 'noteState'>;
  /** Whether anyone listens to the runtime's events: when nobody does, none is built. */
  listening?: () => boolean;
}): (event: InspectionEvent) => void {
  const watched = new WeakSet<object>();
  const listening = deps.listening ?? (() => true);
  return (event) => {
    // Most inspection events (each event received, microstep, action) tell the runtime nothing.
    if (event.type !== '@xstate.actor' && event.type !== '@xstate.snapshot') return;
    const ref = event.actorRef as AnyActorRef;
    const sessionId = typeof ref.id === 'string' ? sessionIdOfActor(ref.id) : null;
    if (sessionId === null) return;
    if (event.type === '@xstate.actor' && !watched.has(ref)) {
      watched.add(ref);
      ref.on('*', (emitted: { type: string }) => {
        if (!listening()) return;
        for (const e of sessionEventsOf(emitted as SessionMachineEmitted, deps.compactor, deps.at()))
          deps.publish(e);
      });
    }
    if (event.type !== '@xstate.snapshot') return;
    const state = machineStateOf(event.snapshot as ReturnType<SessionActorRef['getSnapshot']>);
    const previous = deps.registry.noteState(sessionId, state);
    if (state === previous) return;
    if (listening())
      deps.publish({ type: 'session.state.changed', sessionId, at: deps.at(), from: previous, to: state });
    // An append in flight has a caller holding a lease on the session: for the supervisor, which
    // only asks whether an actor may be stopped, `appending` is `idle`, and an append costs it nothing.
    if (supervised(state) !== supervised(previous)) deps.tellSupervisor(sessionId, supervised(state));
  };
}

/** @internal The state as the supervisor needs it: `appending` is covered by its callers' leases. */
function supervised(state: SessionMachineState): SessionMachineState {
  return state === 'appending' ? 'idle' : state;
}
