/**
 * The statecharts, for hosts that run or inspect them directly.
 */
export { sessionMachine, machineStateOf, requestTokensOf, thresholdOf, retryDelayOf } from './session.machine.js';
export type {
  AppendReply,
  ClearMode,
  ClearOutput,
  ClearReply,
  CompactInput,
  CompactOutput,
  CompactReply,
  CompactionFailure,
  LoadOutput,
  NewMessage,
  SessionActorRef,
  SessionMachineContext,
  SessionMachineEmitted,
  SessionMachineEvent,
  SessionMachineInput,
} from './session.machine.js';
export { supervisorMachine, sessionActorId, sessionIdOfActor } from './supervisor.machine.js';
export type { SupervisorActorRef, SupervisorEvent, SupervisorInput } from './supervisor.machine.js';
