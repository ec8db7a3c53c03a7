/**
 * @internal What the runtime learns of its sessions from their actors' own snapshots and events:
 * each session actor's emitted events, republished as `session.*` events, and its state changes,
 * published as `session.state.changed` and, when it matters to the supervisor (not for appends),
 * passed on to it. The actors are found in the supervisor's snapshots, as it spawns them.
 *
 * No XState inspection: with an inspector attached, every actor of the system builds an event per
 * event, microstep, action and snapshot, of which the runtime needs only the snapshots of session
 * actors (about 30 us of the main thread per append: docs/architecture.md, "The runtime without
 * inspection (round 13)"). A host's own `inspect` still gets them all.
 */
import {
  machineStateOf,
  type SessionActorRef,
  type SessionMachineEmitted,
} from '../../machines/session.machine.js';
import type { SupervisedSession } from '../../machines/supervisor.machine.js';
import type { SessionMachineState } from '../core/types.js';
import { sessionEventsOf, type SessionEvent } from './events.js';
import type { SessionRegistry } from './session-registry.js';

/** @internal The runtime's view of its session actors. */
export interface SessionObserver {
  /** Follows the session actors it has not seen yet: call it with every supervisor snapshot. */
  follow(sessions: Readonly<Record<string, SupervisedSession>>): void;
}

/** @internal A session observer for a runtime. */
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
  const followed = new WeakSet<SessionActorRef>();
  const listening = deps.listening ?? (() => true);

  function noteSnapshot(sessionId: string, snapshot: ReturnType<SessionActorRef['getSnapshot']>): void {
    const state = machineStateOf(snapshot);
    const previous = deps.registry.noteState(sessionId, state);
    if (state === previous) return;
    if (listening())
      deps.publish({ type: 'session.state.changed', sessionId, at: deps.at(), from: previous, to: state });
    // An append in flight has a caller holding a lease on the session: for the supervisor, which
    // only asks whether an actor may be stopped, `appending` is `idle`, and an append costs it nothing.
    if (supervised(state) !== supervised(previous)) deps.tellSupervisor(sessionId, supervised(state));
  }

  function followActor(sessionId: string, ref: SessionActorRef): void {
    followed.add(ref);
    ref.on('*', (emitted: { type: string }) => {
      if (!listening()) return;
      for (const e of sessionEventsOf(emitted as SessionMachineEmitted, deps.compactor, deps.at()))
        deps.publish(e);
    });
    ref.subscribe({
      next: (snapshot) => noteSnapshot(sessionId, snapshot),
      // A crash is the supervisor's (it restarts the actor); the fresh actor's snapshots follow.
      error: () => undefined,
    });
    // It started as it was spawned, before the supervisor's snapshot was published.
    noteSnapshot(sessionId, ref.getSnapshot());
  }

  return {
    follow(sessions) {
      for (const sessionId in sessions) {
        const ref = sessions[sessionId]!.ref;
        if (!followed.has(ref)) followActor(sessionId, ref);
      }
    },
  };
}

/** @internal The state as the supervisor needs it: `appending` is covered by its callers' leases. */
function supervised(state: SessionMachineState): SessionMachineState {
  return state === 'appending' ? 'idle' : state;
}
