/**
 * The session actor's writer: its `persist` effect as one long-lived actor per loaded session,
 * instead of a promise actor spawned for every batch. Creating, starting and stopping an actor
 * per batch cost about 0.08 ms of CPU an append (see docs/architecture.md, "One writer per
 * session"); a `PERSIST` event and its answer cost a fraction of that.
 */
import { fromCallback, type CallbackActorLogic } from 'xstate';
import type { PersistInput, PersistOutput, PersistRequest } from './session.types.js';

/** Makes one batch durable: resolves once it is, rejects if nothing of it may be acknowledged. */
export type PersistWrite = (input: PersistInput) => Promise<PersistOutput | undefined>;

/** The writer's actor logic: takes `PERSIST` requests, answers `PERSIST.DONE` or `PERSIST.FAILED`. */
export type WriterLogic = CallbackActorLogic<PersistRequest>;

/** Options of {@link createWriter}. */
export interface WriterOptions {
  /**
   * Called once the answer to a batch was handed to the session actor (which has taken it by
   * then: its figures hold the batch), or dropped because the writer was stopped. An effect that
   * answers its callers early (`PersistInput.acknowledge`) learns here that the bookkeeping is done.
   */
  answered?: (input: PersistInput) => void;
}

/**
 * Creates the session actor's `persist` effect from a write function. The chart sends it one
 * batch at a time (the next only after the answer), so writes never overlap. An answer that
 * comes after the writer was stopped (the session left `ready`) is dropped, as a stopped
 * promise actor's result is.
 *
 * @param write - Makes a batch durable; a throw or a rejection fails the batch.
 * @param options - `answered`: told when the actor has taken each answer.
 * @returns Actor logic to provide as `persist` with `sessionMachine.provide()`.
 * @example
 * ```ts
 * const machine = sessionMachine.provide({
 *   actors: { persist: createWriter(async (input) => { await disk.append(input.messages); return undefined; }) },
 * });
 * ```
 */
export function createWriter(write: PersistWrite, options: WriterOptions = {}): WriterLogic {
  const answered = options.answered;
  return fromCallback<PersistRequest>(({ sendBack, receive }) => {
    receive((request) => {
      // A throw before the write's first await fails the batch like a rejection does.
      const answers = new Promise<PersistOutput | undefined>((resolve) => resolve(write(request.input))).then(
        (output) => sendBack({ type: 'PERSIST.DONE', output }),
        (error: unknown) => sendBack({ type: 'PERSIST.FAILED', error }),
      );
      // sendBack hands the answer to the actor, which takes it before sendBack returns.
      if (answered !== undefined) void answers.then(() => answered(request.input));
    });
  });
}
