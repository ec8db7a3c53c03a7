/**
 * @internal The writes that belong to the `session` object, as the session client makes them:
 * `addMessage` is one call of the object's exclusive `addMessage` (which validates, counts,
 * numbers, stores, publishes and starts the compaction workflow at the threshold), `compact` asks
 * the object for its compaction (joining the one running) and waits for that workflow, and
 * `buildRequest` makes room through the same workflow before building. No runtime of the client
 * writes messages or commits a compaction, so any number of clients write one session at once.
 */
import { randomUUID } from 'node:crypto';
import type * as clients from '@restatedev/restate-sdk-clients';
import { rpc } from '@restatedev/restate-sdk-clients';
import type { CompactOutput } from '../../machines/session.machine.js';
import type { CheckpointChange } from '../core/checkpoint-change.js';
import { SessionError, isSessionErrorCode, type SessionErrorCode } from '../core/errors.js';
import { keyOfSessionId, sessionIdOf as sessionIdOfKey, validateKey } from '../core/ids.js';
import type {
  AgentDescription,
  Checkpoint,
  Limits,
  Message,
  MessageInput,
  SessionContext,
  SessionKey,
} from '../core/types.js';
import { assertRegistered, resolveAgentProfiles, type AgentsOption } from '../runtime/agent-profiles.js';
import { writeNewSession } from '../runtime/create-session.js';
import type { SessionEvent } from '../runtime/events.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import { defaultLimits, resolveLimits } from '../runtime/limits.js';
import {
  validateCheckpointEdit,
  validateClearOptions,
  validateDecision,
} from '../runtime/checkpoint-edits.js';
import type { ClearResult, CreateSessionOptions } from '../runtime/types.js';
import type { SendOptions, SendResult } from '../runtime/conversation.js';
import { IDEMPOTENCY_KEY_RE, validateMessageInput } from '../runtime/validate.js';
import {
  validateAgentDescription,
  validateChecks,
  validatePlainObject,
} from '../runtime/validate-arguments.js';
import type { TurnRequest, TurnResult } from './turn-service.js';
import type { CheckpointChangeAnswer, CheckpointChangeCall } from './checkpoint-writes.js';
import type { CompactionResult } from './compaction-workflow.js';
import { unwrap, type RestateSessionStore } from './restate-session-store.js';
import type { Outcome } from './session-state.js';
import {
  COMPACTION_WORKFLOW,
  type AddMessageAnswer,
  type AddMessageCall,
  type CompactionStart,
} from './session-append.js';

/** What the object writes need of the client. */
export interface ObjectWritesDeps {
  store: RestateSessionStore;
  ingress: clients.Ingress;
  /** The runtime-wide limits and agent profiles the client was given: each session's limits. */
  limits: Partial<Limits> | undefined;
  agents: AgentsOption | undefined;
  /** Largest message accepted, as the runtime's option. */
  maxMessageBytes: number | undefined;
  now: () => Date;
  /** Counts a new session's parts (the client's estimator, as the runtime's). */
  estimator: TokenEstimator;
  /** The default model of `send` (the turn's own default when absent). */
  model: string | undefined;
  /** The feed the object publishes to, or null for none. */
  feed: string | null;
  origin: string;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The SessionError code a terminal failure carried through the ingress (in its metadata), if any. */
function carriedCode(error: unknown): SessionErrorCode | undefined {
  const text = `${error instanceof Error ? error.message : String(error)} ${String(
    (error as { responseText?: unknown }).responseText ?? '',
  )}`;
  const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
  return code !== undefined && isSessionErrorCode(code) ? code : undefined;
}

/** A workflow's or a turn's terminal failure as the SessionError it carried (its code in the metadata). */
function carriedError(
  id: string,
  what: string,
  fallback: 'COMPACTOR_FAILED' | 'MODEL_FAILED',
  error: unknown,
) {
  if (error instanceof SessionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SessionError(
    carriedCode(error) ?? fallback,
    'runtime',
    `session ${id}: ${what} failed: ${message}`,
    {
      cause: error,
    },
  );
}

/** @internal The object's writes for the session client. */
export function createObjectWrites(deps: ObjectWritesDeps) {
  const { store, ingress } = deps;
  // As the runtime resolves them: defaults < runtime limits < the agent type's. The client's read
  // runtime, made with the same options, has counted and checked their descriptions.
  const profiles = resolveAgentProfiles({
    ...(deps.limits === undefined ? {} : { limits: deps.limits }),
    ...(deps.agents === undefined ? {} : { agents: deps.agents }),
    ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
  });
  const base = resolveLimits(deps.limits, defaultLimits());
  const limitsOfKey = (key: SessionKey | null): Limits =>
    (key && profiles.profile(key.agentType)?.resolved) || base;
  const limitsOf = (id: string): Limits => limitsOfKey(keyOfSessionId(id));
  const target = { feed: deps.feed, origin: deps.origin };

  async function addMessage(id: string, raw: unknown): Promise<Message> {
    const input: MessageInput = validateMessageInput(
      raw,
      deps.maxMessageBytes === undefined ? {} : { maxBytes: deps.maxMessageBytes },
    );
    const call: AddMessageCall = {
      input,
      id: `msg_${randomUUID()}`,
      timestamp: deps.now().toISOString(),
      limits: limitsOf(id),
      ...target,
    };
    const { stored: _stored, ...fields } = await store.write<AddMessageAnswer>(id, 'addMessage', call);
    // The answer leaves out what the caller sent (content, metadata): it is not carried back.
    return deepFreeze({
      ...fields,
      content: input.content,
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    } as Message);
  }

  async function compact(id: string, options: { keepRecentTokens?: number } = {}): Promise<CompactOutput> {
    const began = performance.now();
    const start: CompactionStart & { compactionId: string } = {
      compactionId: `manual-${randomUUID()}`,
      limits: limitsOf(id),
      trigger: 'manual',
      ...(options.keepRecentTokens === undefined ? {} : { keepRecentTokens: options.keepRecentTokens }),
      ...target,
    };
    const running = await store.write<string>(id, 'compact', start);
    // The run's outcome through its shared `result` handler, which waits for the run (an attach
    // could come before the object's one-way submission has reached the server).
    const workflow = ingress.workflowClient(
      { name: COMPACTION_WORKFLOW } as never,
      `${store.keyOf(id)}:${running}`,
    ) as unknown as { result(): Promise<Outcome<CompactionResult>> };
    let outcome: Outcome<CompactionResult>;
    try {
      outcome = await workflow.result();
    } catch (error) {
      throw carriedError(id, 'the compaction workflow', 'COMPACTOR_FAILED', error);
    }
    const result = unwrap(outcome);
    const { committed: _committed, ...output } = result;
    return { ...output, durationMs: Math.round(performance.now() - began) };
  }

  /**
   * `createSession`: the record, description, context and initial checkpoint built and counted as
   * the runtime builds them, written by one call of the object's exclusive `create`, which refuses
   * a session that exists: creation is idempotent, and of two clients creating one key at once one
   * writes it and the other answers it. Returns the session's id.
   */
  async function createSession(keyInput: unknown, options: CreateSessionOptions = {}): Promise<string> {
    const key = assertRegistered(profiles, validateKey(keyInput as SessionKey));
    const id = sessionIdOfKey(key);
    const publish = (event: SessionEvent) => {
      if (deps.feed === null) return;
      const feed = ingress.objectSendClient({ name: 'sessionEvents' } as never, deps.feed) as unknown as {
        publish(argument: unknown): Promise<unknown>;
      };
      feed
        .publish({ origin: deps.origin, events: [event] })
        .catch((error: unknown) =>
          console.error('[dagent-sessions] [restate] an event was not published:', error),
        );
    };
    const at = () => deps.now().toISOString();
    try {
      await writeNewSession(
        {
          store,
          profiles,
          estimator: deps.estimator,
          at,
          limitsOf: limitsOfKey,
          publish,
          ...(deps.maxMessageBytes === undefined ? {} : { maxMessageBytes: deps.maxMessageBytes }),
        },
        key,
        id,
        options,
      );
    } catch (error) {
      if (!(error instanceof SessionError) || error.details['exists'] !== true) throw error;
    }
    return id;
  }

  /**
   * `setContext` and `setAgentDescription`: validated here as in-process (the size limit), then
   * one call of the object's exclusive `setPart` with the limits: it counts the value, checks the
   * room the limits leave the description and context against the other part as stored (where no
   * other write can land in between), and writes.
   */
  async function setPart(id: string, part: 'context' | 'description', value: unknown): Promise<void> {
    const max = deps.maxMessageBytes;
    const valid =
      part === 'context'
        ? validatePlainObject(value, 'context', max)
        : validateAgentDescription(value, 'agentDescription', max);
    const limits = limitsOf(id);
    await store.write<void>(id, 'setPart', {
      part,
      value: valid as SessionContext | AgentDescription,
      at: deps.now().toISOString(),
      limits,
      ...target,
    });
  }

  /** `archiveSession`: one call of the object's exclusive `archiveSession` (a second one changes nothing). */
  async function archive(id: string): Promise<void> {
    await store.write<boolean>(id, 'archiveSession', { at: deps.now().toISOString(), ...target });
  }

  /** `recordChecks`: checked here as in-process, then one call of the object's exclusive `recordChecksFor`. */
  async function recordChecks(id: string, checks: unknown): Promise<Checkpoint> {
    const valid = validateChecks(checks as never);
    const now = deps.now().toISOString();
    return deepFreeze(
      await store.write<Checkpoint>(id, 'recordChecksFor', { checks: valid, now, ...target }),
    );
  }

  /** Waits for the object's compaction `compaction` to end, whatever its outcome (the caller of `compact` hears it). */
  async function compactionEnded(id: string, compaction: string): Promise<void> {
    const workflow = ingress.workflowClient(
      { name: COMPACTION_WORKFLOW } as never,
      `${store.keyOf(id)}:${compaction}`,
    ) as unknown as { result(): Promise<unknown> };
    await workflow.result().catch(() => undefined);
  }

  /**
   * One change of the checkpoint through the object's exclusive `changeCheckpoint`. While the
   * object's compaction runs, the object writes nothing and names it: as in-process, the change
   * waits for it (its commit comes first) and is asked again, under the same id.
   */
  async function changeCheckpoint(
    id: string,
    mode: CheckpointChangeCall['mode'],
    change?: CheckpointChange,
  ): Promise<Extract<CheckpointChangeAnswer, { kind: 'done' }>> {
    const call: CheckpointChangeCall = {
      changeId: `${mode}-${randomUUID()}`,
      mode,
      ...(change === undefined ? {} : { change }),
      at: deps.now().toISOString(),
      limits: limitsOf(id),
      ...target,
    };
    for (;;) {
      const answer = await store.write<CheckpointChangeAnswer>(id, 'changeCheckpoint', call);
      if (answer.kind === 'done') return answer;
      await compactionEnded(id, answer.compaction);
    }
  }

  /** `editCheckpoint`: the edit's shape checked here, the checkpoint it makes by the object. */
  async function editCheckpoint(id: string, edit: unknown): Promise<Checkpoint> {
    const valid = validateCheckpointEdit(edit);
    const done = await changeCheckpoint(id, 'edit', { edit: valid, at: deps.now().toISOString() });
    return done.checkpoint!;
  }

  /** `recordDecision`: a new checkpoint version with the decision in its ledger. */
  async function recordDecision(id: string, decision: unknown): Promise<Checkpoint> {
    const valid = validateDecision(decision);
    const done = await changeCheckpoint(id, 'edit', { decisions: [valid], at: deps.now().toISOString() });
    return done.checkpoint!;
  }

  /** `clearMessages`: the live messages archived, their facts and the options' in one checkpoint version. */
  async function clearMessages(id: string, options?: unknown): Promise<ClearResult> {
    const { iteration, decisions } = validateClearOptions(options);
    const change: CheckpointChange | undefined =
      iteration === undefined && decisions === undefined
        ? undefined
        : {
            ...(iteration ? { iteration } : {}),
            ...(decisions ? { decisions } : {}),
            at: deps.now().toISOString(),
          };
    return (await changeCheckpoint(id, 'clear', change)).result;
  }

  /** `reset`: the live messages archived and the checkpoint emptied. */
  async function reset(id: string): Promise<ClearResult> {
    return (await changeCheckpoint(id, 'reset')).result;
  }

  /**
   * `send`: one call of the session's `sessionTurn` object, which appends the user message, builds
   * the request (compacting first past the threshold), calls the model as a durable step and
   * appends the reply. Two turns on one session run one after the other, each whole. The model is
   * the endpoint's (`createTurnService`), so a `client` of the caller's cannot be used.
   */
  async function send(id: string, content: unknown, options: SendOptions = {}): Promise<SendResult> {
    if (options.client !== undefined)
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        'send on Restate calls the model from the endpoint (createTurnService({ client })); ' +
          'leave out the client option',
      );
    const input = validateMessageInput(
      { role: 'user', content },
      deps.maxMessageBytes === undefined ? {} : { maxBytes: deps.maxMessageBytes },
    );
    const key = options.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY_RE.test(key)))
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        'idempotencyKey must be 1 to 128 letters, digits, ".", "_", ":" or "-" (a UUID works)',
      );
    const model = options.model ?? deps.model;
    const request: TurnRequest = {
      content: input.content,
      limits: limitsOf(id),
      ...(model === undefined ? {} : { model }),
      ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      ...(key === undefined ? {} : { idempotencyKey: key }),
      ...target,
    };
    const turn = ingress.objectClient({ name: 'sessionTurn' } as never, store.keyOf(id)) as unknown as {
      send(request: TurnRequest, opts?: unknown): Promise<TurnResult>;
    };
    let result: TurnResult;
    try {
      result = await turn.send(request, rpc.opts(options.signal ? { signal: options.signal } : {}));
    } catch (error) {
      throw carriedError(id, 'the turn', 'MODEL_FAILED', error);
    }
    return deepFreeze({
      message: result.reply,
      usage: result.usage,
      request: result.request,
      replayed: result.replayed,
    });
  }

  return {
    createSession,
    addMessage,
    send,
    compact,
    setPart,
    archive,
    recordChecks,
    editCheckpoint,
    recordDecision,
    clearMessages,
    reset,
    limitsOf,
  };
}
