/**
 * The statecharts, for hosts that run or inspect them directly.
 */
export * from './session.machine.js';
export { supervisorMachine, sessionActorId, sessionIdOfActor } from './supervisor.machine.js';
export type { SupervisorActorRef, SupervisorEvent, SupervisorInput } from './supervisor.machine.js';
