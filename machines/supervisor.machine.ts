/**
 * The supervisor: one per root. It spawns a session actor per session id on first use
 * (systemId `session:<id>`), restarts one that crashed by reloading it from disk, and stops idle
 * ones so that thousands of sessions on disk do not mean thousands of actors in memory.
 *
 * It learns what its sessions are doing from `SESSION.STATE` events, which the runtime derives
 * from the session actors' own snapshots (only when it matters here: an append, covered by its
 * caller's call, is not told); it never reads a child's context. Which sessions calls are using, and when
 * each was last used, it asks its input's {@link SessionUses} (the runtime's registry, which counts
 * the calls) when it sweeps or applies its cap: a call costs the supervisor no event. A loaded
 * session is used without an event to the supervisor.
 */
import { assign, enqueueActions, sendTo, setup, type ActorRefFrom } from 'xstate';
import type { SessionMachineState } from '../src/core/types.js';
import { sessionMachine, type SessionMachineInput } from './session.machine.js';

/** @internal One supervised session. */
export interface SupervisedSession {
  ref: ActorRefFrom<typeof sessionMachine>;
  input: SessionMachineInput;
  /** The supervisor's tick at the last `SESSION.OPEN`: orders sessions that calls used alike. */
  lastUsed: number;
  /** Sweeps passed while idle; reset by any use or state change. */
  idleSweeps: number;
  /** `uses.lastUsed` as the last sweep saw it: a sweep that sees another value saw a use since. */
  usedAtSweep: number;
  state: SessionMachineState;
  /** CLOSE was sent; the actor is on its way out. */
  closing: boolean;
  incarnation: number;
}

/**
 * @internal What the supervisor asks of the calls on its sessions; the runtime's registry
 * (session-registry.ts) answers, from the calls it counts anyway.
 */
export interface SessionUses {
  /** Whether a call is using the session now: its actor is not stopped for the cap or idleness. */
  inUse(sessionId: string): boolean;
  /**
   * When a call last started or ended on the session, on a counter that only grows (0: never,
   * or forgotten with the session): the smallest is the least recently used.
   */
  lastUsed(sessionId: string): number;
}

/** @internal No call uses any session (a supervisor driven by events alone, as in its tests). */
const NO_USES: SessionUses = { inUse: () => false, lastUsed: () => 0 };

/** Settings of the supervisor. */
export interface SupervisorInput {
  /** Time between idle sweeps (default 30 s). */
  sweepIntervalMs?: number;
  /** Sweeps a session must stay idle before it is stopped (default 2: about a minute). */
  idleSweeps?: number;
  /**
   * Most session actors kept alive (default 200). Past it, the least recently used idle actors
   * that no call is using are stopped at once. Actors busy (loading, appending, compacting,
   * failed) or in use by a call are never stopped for it, so during a burst of more than
   * `maxActive` sessions in use at once the count passes it, and comes back under it as soon as
   * those actors are idle again: at every moment, the actors not on their way out number at most
   * `max(maxActive, actors busy or in use)`.
   */
  maxActive?: number;
  /** Restarts allowed per session after crashes (default 5). */
  maxRestarts?: number;
}

/** @internal The supervisor's input as the runtime gives it: the settings and the calls' uses. */
export interface SupervisorMachineInput extends SupervisorInput {
  uses?: SessionUses;
}

/** @internal */
export interface SupervisorContext {
  sessions: Record<string, SupervisedSession>;
  /** The calls on its sessions: those in use are not stopped; the least recently used go first. */
  uses: SessionUses;
  /**
   * The last cap check left more actors than `maxActive` (some busy or in use): the runtime then
   * tells `SESSION.RELEASED` when a session goes out of use, so the count comes back at once.
   */
  overCap: boolean;
  restarts: Record<string, number>;
  tick: number;
  incarnations: number;
  sweepIntervalMs: number;
  idleSweeps: number;
  maxActive: number;
  maxRestarts: number;
  stoppedForIdle: number;
}

/** Events the supervisor accepts. */
export type SupervisorEvent =
  | { type: 'SESSION.OPEN'; sessionId: string; input: SessionMachineInput }
  | { type: 'SESSION.STATE'; sessionId: string; state: SessionMachineState }
  | { type: 'SESSION.STOP'; sessionId: string }
  /** The session went out of use while `overCap`: actors may be stopped for the cap now. */
  | { type: 'SESSION.RELEASED'; sessionId: string }
  | { type: 'SWEEP' }
  | { type: 'STOP_ALL' }
  | { type: `xstate.done.actor.${string}`; output?: unknown }
  | { type: `xstate.error.actor.${string}`; error: unknown };

const PREFIX = 'session:';

/** The actor id of a session's n-th incarnation: `session:<id>:<n>`. */
export function sessionActorId(sessionId: string, incarnation: number): string {
  return `${PREFIX}${sessionId}:${incarnation}`;
}

/** The session id in a child actor id, or null for other actors. */
export function sessionIdOfActor(actorId: string): string | null {
  if (!actorId.startsWith(PREFIX)) return null;
  const rest = actorId.slice(PREFIX.length);
  const colon = rest.lastIndexOf(':');
  return colon === -1 ? null : rest.slice(0, colon);
}

function childIdOf(eventType: string): string {
  return eventType.replace(/^xstate\.(done|error)\.actor\./, '');
}

/** The supervisor statechart. Provide `session` (the session machine with its effects). */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorMachineInput,
  },
  actors: { session: sessionMachine },
  actions: {
    open: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SESSION.OPEN') return;
      const tick = context.tick + 1;
      const existing = context.sessions[event.sessionId];
      if (existing) {
        enqueue.assign({
          tick,
          sessions: {
            ...context.sessions,
            [event.sessionId]: { ...existing, lastUsed: tick, idleSweeps: 0 },
          },
        });
        return;
      }
      const incarnation = context.incarnations + 1;
      enqueue.assign({
        tick,
        incarnations: incarnation,
        sessions: ({ context: c, spawn }) => ({
          ...c.sessions,
          [event.sessionId]: {
            ref: spawn('session', {
              id: sessionActorId(event.sessionId, incarnation),
              systemId: `${PREFIX}${event.sessionId}`,
              input: event.input,
            }),
            input: event.input,
            lastUsed: tick,
            idleSweeps: 0,
            usedAtSweep: c.uses.lastUsed(event.sessionId),
            state: 'loading',
            closing: false,
            incarnation,
          },
        }),
      });
    }),
    /**
     * Memory stays bounded: past maxActive, stop the least recently used idle sessions that no
     * call is using. Runs after every event that can change the count or who may go (a call's end
     * is told only while `overCap`).
     */
    enforceCap: enqueueActions(({ context, enqueue }) => {
      // Under the cap (the usual case) nothing is built.
      if (Object.keys(context.sessions).length <= context.maxActive) {
        if (context.overCap) enqueue.assign({ overCap: false });
        return;
      }
      const alive = Object.entries(context.sessions).filter(([, e]) => !e.closing);
      const excess = alive.length - context.maxActive;
      if (excess <= 0) {
        if (context.overCap) enqueue.assign({ overCap: false });
        return;
      }
      const { uses } = context;
      const victims = alive
        .filter(([id, e]) => e.state === 'idle' && !uses.inUse(id))
        .map(([id, e]) => ({ id, entry: e, used: uses.lastUsed(id) }))
        .sort((a, b) => a.used - b.used || a.entry.lastUsed - b.entry.lastUsed)
        .slice(0, excess);
      const overCap = victims.length < excess;
      if (victims.length === 0) {
        if (overCap !== context.overCap) enqueue.assign({ overCap });
        return;
      }
      const sessions = { ...context.sessions };
      for (const { id, entry } of victims) {
        enqueue.sendTo(entry.ref, { type: 'CLOSE' });
        sessions[id] = { ...entry, closing: true };
      }
      enqueue.assign({ sessions, overCap, stoppedForIdle: context.stoppedForIdle + victims.length });
    }),
    sweep: enqueueActions(({ context, enqueue }) => {
      const sessions: Record<string, SupervisedSession> = {};
      let stopped = 0;
      const { uses } = context;
      for (const [id, entry] of Object.entries(context.sessions)) {
        if (entry.closing || entry.state !== 'idle' || uses.inUse(id)) {
          sessions[id] = entry;
          continue;
        }
        // A call that started and ended since the last sweep counts as a use: the count restarts.
        const usedAtSweep = uses.lastUsed(id);
        const idleSweeps = (usedAtSweep === entry.usedAtSweep ? entry.idleSweeps : 0) + 1;
        if (idleSweeps >= context.idleSweeps) {
          enqueue.sendTo(entry.ref, { type: 'CLOSE' });
          sessions[id] = { ...entry, idleSweeps, usedAtSweep, closing: true };
          stopped++;
        } else {
          sessions[id] = { ...entry, idleSweeps, usedAtSweep };
        }
      }
      enqueue.assign({ sessions, stoppedForIdle: context.stoppedForIdle + stopped });
    }),
    forget: assign(({ context, event }) => {
      const sessionId = sessionIdOfActor(childIdOf(event.type));
      const entry = sessionId === null ? undefined : context.sessions[sessionId];
      if (sessionId === null || !entry || entry.ref.id !== childIdOf(event.type)) return {};
      const { [sessionId]: _gone, ...rest } = context.sessions;
      return { sessions: rest };
    }),
    restart: enqueueActions(({ context, event, enqueue }) => {
      const actorId = childIdOf(event.type);
      const sessionId = sessionIdOfActor(actorId);
      const entry = sessionId === null ? undefined : context.sessions[sessionId];
      if (sessionId === null || !entry || entry.ref.id !== actorId) return;
      const restarts = (context.restarts[sessionId] ?? 0) + 1;
      const { [sessionId]: _crashed, ...rest } = context.sessions;
      enqueue.assign({ sessions: rest, restarts: { ...context.restarts, [sessionId]: restarts } });
      if (restarts > context.maxRestarts) return; // left stopped; the next use opens it afresh
      const incarnation = context.incarnations + 1;
      // Reloaded from disk: what was acknowledged is there, the rest was never acknowledged.
      enqueue.assign({
        incarnations: incarnation,
        sessions: ({ context: c, spawn }) => ({
          ...c.sessions,
          [sessionId]: {
            ...entry,
            ref: spawn('session', {
              id: sessionActorId(sessionId, incarnation),
              systemId: `${PREFIX}${sessionId}`,
              input: entry.input,
            }),
            state: 'loading' as const,
            closing: false,
            idleSweeps: 0,
            incarnation,
          },
        }),
      });
    }),
  },
  delays: { sweepInterval: ({ context }) => context.sweepIntervalMs },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => ({
    sessions: {},
    uses: input.uses ?? NO_USES,
    overCap: false,
    restarts: {},
    tick: 0,
    incarnations: 0,
    sweepIntervalMs: input.sweepIntervalMs ?? 30_000,
    idleSweeps: input.idleSweeps ?? 2,
    maxActive: input.maxActive ?? 200,
    maxRestarts: input.maxRestarts ?? 5,
    stoppedForIdle: 0,
  }),
  initial: 'running',
  states: {
    running: {
      after: { sweepInterval: { target: 'running', reenter: true, actions: { type: 'sweep' } } },
      on: {
        'SESSION.OPEN': { actions: ['open', 'enforceCap'] },
        'SESSION.STATE': {
          actions: [
            assign(({ context, event }) => {
              const entry = context.sessions[event.sessionId];
              if (!entry) return {};
              return {
                sessions: {
                  ...context.sessions,
                  [event.sessionId]: { ...entry, state: event.state, idleSweeps: 0 },
                },
              };
            }),
            'enforceCap',
          ],
        },
        'SESSION.RELEASED': { actions: 'enforceCap' },
        'SESSION.STOP': {
          actions: enqueueActions(({ context, event, enqueue }) => {
            const entry = context.sessions[event.sessionId];
            if (!entry || entry.closing) return;
            enqueue.sendTo(entry.ref, { type: 'CLOSE' });
            enqueue.assign({
              sessions: { ...context.sessions, [event.sessionId]: { ...entry, closing: true } },
            });
          }),
        },
        SWEEP: { actions: 'sweep' },
        STOP_ALL: 'stopping',
        'xstate.done.actor.*': { actions: 'forget' },
        'xstate.error.actor.*': { actions: ['restart', 'enforceCap'] },
      },
    },
    stopping: {
      entry: enqueueActions(({ context, enqueue }) => {
        for (const entry of Object.values(context.sessions))
          if (!entry.closing) enqueue(sendTo(entry.ref, { type: 'CLOSE' }));
        enqueue.assign({ sessions: mapValues(context.sessions, (e) => ({ ...e, closing: true })) });
      }),
      always: { guard: ({ context }) => Object.keys(context.sessions).length === 0, target: 'stopped' },
      on: {
        'xstate.done.actor.*': { actions: 'forget' },
        // A session that crashes while stopping is not restarted.
        'xstate.error.actor.*': { actions: 'forget' },
      },
    },
    stopped: { type: 'final' },
  },
});

function mapValues<T>(record: Record<string, T>, fn: (value: T) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

/** A running supervisor. */
export type SupervisorActorRef = ActorRefFrom<typeof supervisorMachine>;
