/**
 * @internal The {@link SessionRuntime} over Restate that the session client's handlers serve:
 * the reads of a runtime of the project's own on a read-only Restate store, the request reads of
 * the `session` object's shared handlers, and every write a call of the session's objects
 * (`session`, `sessionTurn`). Each method checks its options as the in-process runtime does
 * (`src/runtime/method-options.ts`), so the two refuse the same names with the same code.
 */
import { randomUUID } from 'node:crypto';
import type { Ingress } from '@restatedev/restate-sdk-clients';
import * as clients from '@restatedev/restate-sdk-clients';
import { describeError } from '../core/errors.js';
import { thresholdOutOfReach, thresholdOutOfReachReason } from '../core/fixed-parts-room.js';
import { createSessionRuntime } from '../runtime/create-session-runtime.js';
import type { SessionKey } from '../core/types.js';
import type { CreateSessionOptions, SessionRuntime, SessionRuntimeOptions } from '../runtime/types.js';
import { withHopeless } from './hopeless-session.js';
import { createObjectWrites } from './object-writes.js';
import { LIST_READS, createRestateSessionStore, type RestateSessionStore } from './restate-session-store.js';
import type { EstimateCall, RequestCall } from './request-reads.js';
import { DEFAULT_ANTHROPIC_MODEL } from '../compaction/anthropic-options.js';
import type { Limits } from '../core/types.js';
import type { BuiltRequest, RequestFormat } from '../request/build-request.js';
import type { SendOptions, SessionRequest } from '../runtime/conversation.js';
import { checkMethodOptions } from '../runtime/method-options.js';
import type { SessionInfo, SizeEstimate } from '../runtime/types.js';
import { validateMessageInput } from '../runtime/validate.js';

/** @internal The runtime options a Restate runtime takes: those of a runtime with no store of its own. */
export type RestateRuntimeSettings = Omit<
  SessionRuntimeOptions,
  'store' | 'root' | 'readOnly' | 'durable' | 'foldMinBytes' | 'syncAppends'
>;

/** @internal Options of {@link createRestateRuntime}. */
export interface RestateRuntimeOptions extends RestateRuntimeSettings {
  /** The ingress of the Restate server, such as `http://127.0.0.1:8080`. */
  ingressUrl: string;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
  /** Keeps these sessions apart from others on the server (object keys `<namespace>/<id>`). */
  namespace?: string;
  /** Reads only. */
  readOnly?: boolean;
  /**
   * Publish this runtime's events to the feed (default true). The object publishes an append's
   * event with a one-way send (the caller does not wait for it); a writer whose events nobody
   * follows can turn it off and spare the server the feed's writes.
   */
  publishEvents?: boolean;
}

/** @internal What {@link createRestateRuntime} returns. */
export interface RestateRuntime {
  readonly runtime: SessionRuntime;
  /** The ingress client the runtime calls the objects with. */
  readonly ingress: Ingress;
  /** The key of the namespace's `sessionEvents` feed. */
  readonly feedKey: string;
  /** Closes the read runtime and the stores (waiting for their writes). */
  close(): Promise<void>;
}

/**
 * @internal The runtime of a session client: reads through the project's runtime on a read-only
 * store, keeping no session in memory between calls (each reads the object as it is now); writes
 * as calls of the objects.
 * @throws SessionError as `createSessionRuntime` does.
 * @example const { runtime, close } = await createRestateRuntime({ ingressUrl: 'http://127.0.0.1:8080' });
 */
export async function createRestateRuntime(options: RestateRuntimeOptions): Promise<RestateRuntime> {
  const { ingressUrl, headers, namespace, readOnly, publishEvents = true, ...runtimeOptions } = options;
  const connection = {
    ingressUrl,
    ...(headers ? { headers } : {}),
    ...(namespace ? { namespace } : {}),
  };
  const store = createRestateSessionStore({ ...connection, ...(readOnly ? { readOnly } : {}) });
  const readStore = createRestateSessionStore({ ...connection, readOnly: true });
  const root = `restate:${ingressUrl}`;
  const supervisor = { ...runtimeOptions.supervisor, maxActive: 0 };
  const reader = await createSessionRuntime({ ...runtimeOptions, supervisor, store: readStore, root });
  const feedKey = namespace || 'default';
  const ingress = clients.connect({ url: ingressUrl, ...(headers ? { headers } : {}) });
  const objectWrites = createObjectWrites({
    store,
    ingress,
    limits: runtimeOptions.limits,
    agents: runtimeOptions.agents,
    maxMessageBytes: runtimeOptions.maxMessageBytes,
    now: runtimeOptions.now ?? (() => new Date()),
    estimator: reader.estimator,
    model: runtimeOptions.model,
    feed: publishEvents ? feedKey : null,
    origin: randomUUID(),
  });
  const requests = createRequestReads(readStore, objectWrites.limitsOf, reader, runtimeOptions);
  return {
    runtime: composeRuntime(reader, objectWrites, requests, readOnly === true),
    ingress,
    feedKey,
    async close() {
      await reader.close();
      await store.close();
      await readStore.close();
    },
  };
}

type RequestOptions = { format?: RequestFormat; cache?: boolean; model?: string };

/**
 * `estimateSize`, `previewRequest` and `buildRequest` as calls of the object's shared handlers,
 * with what the object cannot know: the session's limits (the client's, by agent type), the
 * learned correction of the model, the largest user message.
 */
function createRequestReads(
  store: RestateSessionStore,
  limitsOf: (id: string) => Limits,
  reader: SessionRuntime,
  options: Pick<SessionRuntimeOptions, 'model' | 'maxMessageBytes'>,
) {
  const defaultModel = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const requestCall = (id: string, userMessage: unknown, given: RequestOptions = {}) => {
    const model = given.model ?? defaultModel;
    const call: RequestCall = {
      limits: limitsOf(id),
      correction: reader.calibration.factor(model),
      userMessage: (userMessage ?? null) as RequestCall['userMessage'],
      ...(given.format === undefined ? {} : { format: given.format }),
      ...(given.cache === undefined ? {} : { cache: given.cache }),
      ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
    };
    return { call, model };
  };
  return {
    /**
     * The new user message's tokens as the in-process build counts them before it decides to make
     * room (the default model's correction applied); an invalid message is refused here, as there.
     */
    userTokensOf(userMessage: unknown): number {
      const { content } = validateMessageInput(
        { role: 'user', content: userMessage },
        options.maxMessageBytes === undefined ? {} : { maxBytes: options.maxMessageBytes },
      );
      return Math.ceil(reader.estimator.estimateContent(content) * reader.calibration.factor(defaultModel));
    },
    /**
     * Why no compaction is started for the request, as in-process: the estimate's description and
     * context, with the new message, reach the threshold (`thresholdOutOfReach`); null when one can help.
     */
    outOfReach(id: string, estimate: SizeEstimate, userTokens: number): string | null {
      const fixed = estimate.breakdown.agentDescription + estimate.breakdown.context;
      const correction = reader.calibration.factor(defaultModel);
      const limits = limitsOf(id);
      if (!thresholdOutOfReach(fixed, correction, limits, userTokens)) return null;
      return (
        `[dagent-sessions] [runtime] session ${id}: the agent description and context ` +
        thresholdOutOfReachReason(Math.ceil(fixed * correction) + userTokens, limits, userTokens)
      );
    },
    /** The correction the client's requests use (its default model's). */
    correction: (): number => reader.calibration.factor(defaultModel),
    estimateSize: (id: string): Promise<SizeEstimate> => {
      const call: EstimateCall = {
        limits: limitsOf(id),
        correction: reader.calibration.factor(defaultModel),
      };
      return store.read<SizeEstimate>(id, 'estimate', call);
    },
    async previewRequest(id: string, userMessage?: unknown, given?: RequestOptions): Promise<SessionRequest> {
      const { call, model } = requestCall(id, userMessage, given);
      const built = await store.read<BuiltRequest>(id, 'previewRequest', call);
      return { ...built, model, compacted: false, compactionError: null };
    },
    async buildRequest(
      id: string,
      userMessage: unknown,
      given?: RequestOptions,
      room: Pick<SessionRequest, 'compacted' | 'compactionError'> = {
        compacted: false,
        compactionError: null,
      },
    ): Promise<SessionRequest> {
      const { call, model } = requestCall(id, userMessage, given);
      const built = await store.read<BuiltRequest>(id, 'buildRequest', call);
      return { ...built, model, ...room };
    },
  };
}

/**
 * The runtime the client's handlers serve: the reads of the read runtime, the request reads of the
 * object, every write a call of the session's objects (`session`, `sessionTurn`), `buildRequest`
 * after making room through the object's compaction.
 */
function composeRuntime(
  reader: SessionRuntime,
  writes: ReturnType<typeof createObjectWrites>,
  requests: ReturnType<typeof createRequestReads>,
  readOnly: boolean,
): SessionRuntime {
  const composed: SessionRuntime = Object.create(reader) as SessionRuntime;
  const own = composed as unknown as Record<string, unknown>;
  own['estimateSize'] = requests.estimateSize;
  // Each call's options are checked as the runtime checks them (a misspelt name is refused).
  own['previewRequest'] = (async (id: string, message?: unknown, options?: RequestOptions) => {
    checkMethodOptions('previewRequest', options);
    return requests.previewRequest(id, message, options ?? undefined);
  }) as SessionRuntime['previewRequest'];
  // Read-only: no room made, as the runtime's read-only build.
  own['buildRequest'] = (async (id: string, message: unknown, options?: RequestOptions) => {
    checkMethodOptions('buildRequest', options);
    return requests.buildRequest(id, message, options ?? undefined);
  }) as SessionRuntime['buildRequest'];
  // A session no compaction can help is failed, as in process (hopeless-session.ts): from the
  // object's estimate under this client's limits, so that it lifts once a smaller part is set.
  const reported = (info: SessionInfo, estimate: SizeEstimate) =>
    withHopeless(info, estimate, requests.correction(), writes.limitsOf(info.id));
  const getSession = async (id: string): Promise<SessionInfo> => {
    // Together: one round trip more in time, not two. The read runtime's refusal comes first.
    const [info, estimate] = await Promise.allSettled([reader.getSession(id), requests.estimateSize(id)]);
    if (info.status === 'rejected') throw info.reason;
    if (estimate.status === 'rejected') throw estimate.reason;
    return reported(info.value, estimate.value);
  };
  own['getSession'] = getSession;
  own['reopenSession'] = (async (id: string) => {
    await reader.reopenSession(id);
    return getSession(id);
  }) as SessionRuntime['reopenSession'];
  own['listSessions'] = (async () => {
    const infos = await reader.listSessions();
    // Only a session with live messages can be failed so; LIST_READS estimates at a time.
    for (let i = 0; i < infos.length; i += LIST_READS) {
      await Promise.all(
        infos.slice(i, i + LIST_READS).map(async (info, j) => {
          if (info.liveMessages === 0 || info.error !== null) return;
          // One that cannot be estimated now (removed since it was listed) is shown as listed.
          const estimate = await requests.estimateSize(info.id).catch(() => null);
          if (estimate !== null) infos[i + j] = reported(info, estimate);
        }),
      );
    }
    return infos;
  }) as SessionRuntime['listSessions'];
  own['exportSession'] = (async (id: string) => {
    const exported = await reader.exportSession(id);
    return { ...exported, session: await getSession(id) };
  }) as SessionRuntime['exportSession'];
  if (readOnly) return composed;
  own['addMessage'] = writes.addMessage;
  own['compact'] = (async (id: string, options?: { keepRecentTokens?: number }) => {
    checkMethodOptions('compact', options);
    return writes.compact(id, options ?? undefined);
  }) as SessionRuntime['compact'];
  // One exclusive call of the object each: two clients at once both succeed, one after the other.
  own['setContext'] = ((id: string, context: unknown) =>
    writes.setPart(id, 'context', context)) as SessionRuntime['setContext'];
  own['setAgentDescription'] = ((id: string, description: unknown) =>
    writes.setPart(id, 'description', description)) as SessionRuntime['setAgentDescription'];
  own['recordChecks'] = ((id: string, checks: unknown) =>
    writes.recordChecks(id, checks)) as SessionRuntime['recordChecks'];
  own['archiveSession'] = (async (id: string) => {
    await writes.archive(id);
    return getSession(id);
  }) as SessionRuntime['archiveSession'];
  // Of two clients creating one key at once, one writes it and the other answers it.
  own['createSession'] = (async (key: SessionKey, options?: CreateSessionOptions) => {
    checkMethodOptions('createSession', options);
    return getSession(await writes.createSession(key, options ?? undefined));
  }) as SessionRuntime['createSession'];
  // One exclusive call of the object each, after the object's compaction running (as in-process).
  own['editCheckpoint'] = writes.editCheckpoint as SessionRuntime['editCheckpoint'];
  own['recordDecision'] = writes.recordDecision as SessionRuntime['recordDecision'];
  own['clearMessages'] = writes.clearMessages as SessionRuntime['clearMessages'];
  own['reset'] = writes.reset as SessionRuntime['reset'];
  // As in-process: a request past the threshold waits for a compaction first (a failed one
  // leaves messages out of the request instead, as the runtime's own build does).
  // The new message counts: one that alone crosses the threshold gets a compaction first.
  const makeRoom = async (
    id: string,
    message: unknown,
  ): Promise<Pick<SessionRequest, 'compacted' | 'compactionError'>> => {
    // No message: the object refuses the build (INVALID_ARGUMENT), so nothing is compacted first.
    if (message === undefined || message === null) return { compacted: false, compactionError: null };
    const userTokens = requests.userTokensOf(message);
    const estimate = await requests.estimateSize(id);
    if (estimate.total + userTokens < estimate.threshold) return { compacted: false, compactionError: null };
    // None either when no compaction can help: messages are left out (the object's build says
    // REQUEST_TOO_LARGE past maxTokens).
    const outOfReach = requests.outOfReach(id, estimate, userTokens);
    if (outOfReach !== null)
      return { compacted: false, compactionError: { code: 'COMPACTION_NO_PROGRESS', message: outOfReach } };
    try {
      await writes.compact(id);
      return { compacted: true, compactionError: null };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        compacted: false,
        compactionError: {
          code: typeof code === 'string' ? code : 'COMPACTOR_FAILED',
          message: describeError(error),
        },
      };
    }
  };
  own['buildRequest'] = (async (id: string, message: unknown, options?: RequestOptions) => {
    checkMethodOptions('buildRequest', options);
    return requests.buildRequest(id, message, options ?? undefined, await makeRoom(id, message));
  }) as SessionRuntime['buildRequest'];
  // The turn is the session's `sessionTurn` object: two at once run one after the other.
  own['send'] = (async (id: string, content: unknown, options?: SendOptions) => {
    checkMethodOptions('send', options);
    return writes.send(id, content, options ?? undefined);
  }) as SessionRuntime['send'];
  return composed;
}
