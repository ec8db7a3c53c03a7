/**
 * createSessionRuntime: wires the statecharts to the store, the token estimator and the
 * compactor with `machine.provide()`, and offers the public API.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { createActor, waitFor } from 'xstate';
import { requestTokensOf, thresholdOf, type CompactReply } from '../../machines/session.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import {
  AnthropicCompactor,
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
} from '../compaction/anthropic-compactor.js';
import { loadAnthropicSdk } from '../compaction/anthropic-sdk.js';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import { SessionError } from '../core/errors.js';
import { sessionIdOf, validateKey } from '../core/ids.js';
import {
  SCHEMA_VERSION,
  type AgentDescription,
  type Limits,
  type SessionContext,
  type SessionKey,
  type SessionRecord,
} from '../core/types.js';
import type { SessionStore } from '../store/contract.js';
import { JsonFileSessionStore } from '../store/session-store.js';
import { TokenCalibration } from '../tokens/calibration.js';
import { createTokenEstimator } from '../tokens/token-estimator.js';
import { assertRegistered, resolveAgentProfiles } from './agent-profiles.js';
import { calibrateWithApi, sendTurn, sessionRequest, type ConversationDeps } from './conversation.js';
import { EventBus, type SessionEvent } from './events.js';
import { resolveLimits } from './limits.js';
import { createSessionAccess } from './session-access.js';
import { checkpointEdits } from './checkpoint-edits.js';
import { sessionChanges } from './session-changes.js';
import { provideSessionEffects, type ActiveSession } from './session-effects.js';
import { countPart } from './fixed-counts.js';
import { createLeaseBook } from './lease-book.js';
import { infoOfListing } from './session-listing.js';
import { historyOf, isStore, type HistoryQuery } from './history.js';
import type { SessionHandle } from './session-handle.js';
import { infoOf, statsOf, toSessionError } from './session-info.js';
import { initialCheckpointOf } from './initial-checkpoint.js';
import { createSessionObserver } from './session-observer.js';
import { trackCalls } from './track-calls.js';
import { unrefClock } from './unref-clock.js';
import { cancelRunningCompaction } from './cancel-compaction.js';
import type { SessionInfo, SessionRuntime, SessionRuntimeOptions } from './types.js';
import { createAppender } from './append.js';
import { createKeyLocks } from './idempotency.js';
import { DEFAULT_MAX_MESSAGE_BYTES, validatePlainObject } from './validate.js';

export type {
  Clock,
  CreateSessionOptions,
  HistoryQuery,
  SessionInfo,
  SessionRuntime,
  SessionRuntimeOptions,
  SizeEstimate,
} from './types.js';

/**
 * Opens a root and returns its session runtime: one supervisor, one actor per session in use.
 *
 * @throws SessionError `ROOT_LOCKED` naming the holder when another runtime (in this process or
 *   another) has the root open for writing; `INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const runtime = await createSessionRuntime({ root: process.cwd() })
 * const s = await runtime.createSession({
 *   type: 'task', agentType: 'dev', featureId: 'f1', taskId: 't1', taskState: 'in_dev',
 * })
 * await runtime.addMessage(s.id, { role: 'user', content: 'Implement the parser' })
 * await runtime.close()
 * ```
 */
export async function createSessionRuntime(options: SessionRuntimeOptions): Promise<SessionRuntime> {
  const given = typeof options === 'object' && options !== null ? options.store : undefined;
  if (
    typeof options !== 'object' ||
    options === null ||
    (given === undefined && (typeof options.root !== 'string' || options.root === '')) ||
    (given !== undefined && !isStore(given))
  ) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      'createSessionRuntime needs { root: "<directory>" } or { store } (a SessionStore)',
    );
  }
  const baseLimits = resolveLimits(options.limits);
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(
    typeof maxMessageBytes === 'number' &&
    maxMessageBytes > 0 &&
    (Number.isInteger(maxMessageBytes) || maxMessageBytes === Infinity)
  )) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'runtime',
      `maxMessageBytes must be a positive integer (or Infinity), got ${String(maxMessageBytes)}`,
    );
  }
  const profiles = resolveAgentProfiles(options);
  const estimator = options.estimator ?? createTokenEstimator();
  const compactor =
    options.compactor ??
    (hasAnthropicApiKey() ? new AnthropicCompactor({ estimator }) : new OfflineCompactor({ estimator }));
  const model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const calibration = options.calibration ?? new TokenCalibration();
  let client: Anthropic | undefined = options.client;
  const now = options.now ?? (() => new Date());
  const readOnly = given ? given.readOnly : (options.readOnly ?? false);
  // The JSON-file store on `root` unless the host gives its own (which it then closes itself).
  const store: SessionStore =
    given ??
    (await JsonFileSessionStore.open({
      root: options.root!,
      readOnly,
      durable: options.durable ?? true,
      description: `dagent-sessions runtime (pid ${process.pid})`,
      ...(options.foldMinBytes === undefined ? {} : { foldMinBytes: options.foldMinBytes }),
    }));
  const location = given ? (options.root ?? given.location) : store.location;
  const bus = new EventBus((error) =>
    console.error('[dagent-sessions] [runtime] an event listener threw:', error),
  );
  const active = new Map<string, ActiveSession>();
  const creating = new Map<string, Promise<SessionInfo>>();
  const commits = new Map<string, Promise<unknown>>();
  /** close() was called: new calls are refused. */
  let closed = false;
  /** The supervisor is stopping: nothing can reach a session any more. */
  let stopped = false;
  const at = () => now().toISOString();
  const publish = (event: SessionEvent) => bus.publish(event);

  const session = provideSessionEffects({
    store,
    active,
    commits,
    compactor,
    estimator,
    now,
    readOnly,
    limitsOf,
    publish,
    writeRecord,
  });

  // What the runtime and the supervisor learn of sessions comes from inspection events.
  const observe = createSessionObserver({
    publish,
    at,
    compactor: compactor.name,
    tellSupervisor: (sessionId, state) => {
      if (supervisor.getSnapshot().status === 'active')
        supervisor.send({ type: 'SESSION.STATE', sessionId, state });
    },
  });

  const supervisor = createActor(supervisorMachine.provide({ actors: { session } }), {
    input: options.supervisor ?? {},
    // Default: unref'd timers, so that a script that never calls close() still exits (unref-clock.ts).
    clock: options.clock ?? unrefClock,
    inspect: (event) => {
      observe(event);
      const inspect = options.inspect;
      if (typeof inspect === 'function') inspect(event);
      else inspect?.next?.(event);
    },
  });

  supervisor.start();

  function limitsOf(key: SessionKey): Limits {
    // A session on disk of a type this runtime did not register still opens, with the base limits.
    return profiles.profile(key.agentType)?.resolved ?? baseLimits;
  }

  async function writeRecord(sessionId: string, dir: SessionHandle, requestTokens?: number): Promise<void> {
    const record = dir.record;
    await dir.writeRecord({
      ...record,
      updatedAt: at(),
      stats: statsOf(dir, requestTokens ?? record.stats.lastRequestTokens),
    });
  }

  function closedError(): SessionError {
    return new SessionError(
      'RUNTIME_CLOSED',
      'runtime',
      `the runtime of ${location} is closed; create a new one with createSessionRuntime`,
    );
  }

  // Inside a call already made, only a stopped supervisor ends it: close() waits for such calls.
  function assertOpen(): void {
    if (stopped) throw closedError();
  }

  function assertWritable(): void {
    if (readOnly)
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `the runtime of ${location} was opened readOnly; open it without readOnly to change sessions`,
      );
  }

  const { loadedDir, writableDir, send } = createSessionAccess({
    supervisor,
    store,
    location,
    active,
    assertOpen,
    inputOf: (sessionId, key) => ({
      sessionId,
      limits: limitsOf(key),
      autoCompact: !readOnly,
      correction: calibration.factor(model),
      ...(options.compaction?.timeoutMs === undefined
        ? {}
        : { compactionTimeoutMs: options.compaction.timeoutMs }),
      ...(options.compaction?.retryBaseMs === undefined
        ? {}
        : { retryBaseMs: options.compaction.retryBaseMs }),
      ...(options.compaction?.retryMaxMs === undefined ? {} : { retryMaxMs: options.compaction.retryMaxMs }),
    }),
  });

  const refOf = (id: string) => supervisor.getSnapshot().context.sessions[id]?.ref;
  const appender = createAppender({ send, loadedDir, active, estimator, at, maxMessageBytes, refOf });

  const conversation: ConversationDeps = {
    loaded: loadedDir,
    // The unwrapped methods: a turn in flight finishes even when close() was called meanwhile.
    compact: (id) => unwrapped.compact(id),
    addMessage: (id, message, replyTo) =>
      replyTo === undefined ? unwrapped.addMessage(id, message) : appender.addMessage(id, message, replyTo),
    findByKey: (id, key) => appender.findByKey(id, key),
    exclusive: createKeyLocks().exclusive,
    maxMessageBytes,
    estimator,
    calibration,
    model,
    client: async () => {
      if (client) return client;
      if (!hasAnthropicApiKey()) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          'send and calibrate need a client: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL if needed), ' +
            'or pass createSessionRuntime({ client }) or send(id, message, { client })',
        );
      }
      // The SDK is loaded on the first turn: opening a runtime does not load it.
      const { default: AnthropicClient } = await loadAnthropicSdk();
      client ??= new AnthropicClient();
      return client;
    },
    onCalibrated: (calibratedModel, factor) => {
      if (calibratedModel !== model) return;
      // Thresholds of every live session use the new factor; new actors get it as input.
      for (const entry of Object.values(supervisor.getSnapshot().context.sessions)) {
        if (entry.ref.getSnapshot().status === 'active')
          entry.ref.send({ type: 'CALIBRATION.CHANGED', correction: factor });
      }
    },
  };

  const runtime: SessionRuntime = {
    root: location,
    store,
    compactor,
    estimator,
    calibration,
    agents: { types: profiles.types, taskStates: profiles.taskStates },
    ...sessionChanges({
      loadedDir,
      writableDir,
      send,
      assertOpen,
      assertWritable,
      estimator,
      at,
      publish,
      getSession: (id) => runtime.getSession(id),
      getHistory: (id) => runtime.getHistory(id),
    }),
    ...checkpointEdits({ loadedDir, writableDir, send, assertWritable, estimator, at, publish }),

    async createSession(keyInput, createOptions = {}) {
      assertOpen();
      assertWritable();
      const key = assertRegistered(profiles, validateKey(keyInput));
      const id = sessionIdOf(key);
      const pending = creating.get(id);
      if (pending) return pending;
      const work = (async () => {
        if ((await store.presence(id)) !== 'present') {
          const context =
            createOptions.context === undefined
              ? undefined
              : (validatePlainObject(createOptions.context, 'context') as SessionContext);
          const description =
            createOptions.agentDescription === undefined
              ? structuredClone(profiles.profile(key.agentType)!.description)
              : (validatePlainObject(createOptions.agentDescription, 'agentDescription') as AgentDescription);
          const time = at();
          const checkpoint =
            createOptions.checkpoint === undefined
              ? undefined
              : initialCheckpointOf(createOptions.checkpoint, {
                  now: time,
                  estimator,
                  budgetTokens: limitsOf(key).checkpointTokens,
                });
          const record: SessionRecord = {
            schemaVersion: SCHEMA_VERSION,
            id,
            key,
            createdAt: time,
            updatedAt: time,
            status: 'active',
            stats: {
              totalMessages: 0,
              totalTokens: 0,
              totalCompactions: 0,
              lastCompactionAt: null,
              lastRequestTokens: 0,
            },
          };
          // Counted once here and persisted: loading the session to read it needs no tokenizer.
          const counts = {
            description: countPart(estimator, 'description', description),
            ...(context ? { context: countPart(estimator, 'context', context) } : {}),
            ...(checkpoint ? { checkpoint: countPart(estimator, 'checkpoint', checkpoint) } : {}),
          };
          // A damaged session (files without a record) is refused here: CORRUPT_FILE.
          await store.create(record, {
            ...(context ? { context } : {}),
            agentDescription: description,
            ...(checkpoint ? { checkpoint } : {}),
            counts,
          });
          publish({ type: 'session.created', sessionId: id, at: time, key: { ...key } });
        }
        return runtime.getSession(id);
      })();
      creating.set(id, work);
      try {
        return await work;
      } finally {
        creating.delete(id);
      }
    },

    async getSession(id) {
      const { ref, dir, limits } = await loadedDir(id);
      return infoOf(ref, dir, dir.record!, limits, compactor.name);
    },

    async listSessions() {
      assertOpen();
      const infos: SessionInfo[] = [];
      for (const listing of await store.list()) {
        const id = listing.id;
        const entry = supervisor.getSnapshot().context.sessions[id];
        const loaded = active.get(id);
        if (entry && loaded) {
          infos.push(infoOf(entry.ref, loaded.dir, loaded.dir.record, loaded.limits, compactor.name));
          continue;
        }
        // Not in memory: the store's figures as stored, without spawning an actor.
        infos.push(infoOfListing(listing, { limitsOf, baseLimits, compactor: compactor.name }));
      }
      return infos;
    },

    async addMessage(id, input) {
      assertOpen();
      assertWritable();
      return appender.addMessage(id, input);
    },

    async getMessages(id) {
      const { dir } = await loadedDir(id);
      return [...dir.messages]; // deep-frozen (session-handle.ts): shared, not copied
    },

    async getHistory(id: string, query?: HistoryQuery) {
      const { dir } = await loadedDir(id);
      return historyOf(dir, query, id);
    },

    async getCheckpoint(id: string, checkpointOptions?: { version?: number }) {
      const { dir } = await loadedDir(id);
      const version = checkpointOptions?.version;
      if (version === undefined || version === dir.checkpoint?.version)
        return dir.checkpoint ? structuredClone(dir.checkpoint) : null;
      if (!Number.isInteger(version) || version < 0) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `getCheckpoint: version must be an integer >= 0, got ${String(version)}`,
        );
      }
      return store.readCheckpoint(id, version);
    },

    async getCheckpointVersions(id: string) {
      await loadedDir(id);
      return store.checkpointVersions(id);
    },

    async getContext(id) {
      const { dir } = await loadedDir(id);
      return structuredClone(dir.context);
    },

    async getAgentDescription(id) {
      const { dir } = await loadedDir(id);
      return structuredClone(dir.agentDescription);
    },

    async estimateSize(id) {
      const { ref, limits } = await loadedDir(id);
      const c = ref.getSnapshot().context;
      const total = requestTokensOf(c);
      const threshold = thresholdOf(limits);
      return {
        total,
        breakdown: {
          agentDescription: c.descriptionTokens,
          context: c.contextTokens,
          checkpoint: c.checkpointTokens,
          messages: c.liveTokens,
          replyReserve: limits.replyReserveTokens,
        },
        limit: limits.maxTokens,
        threshold,
        needsCompaction: total >= threshold,
        liveMessages: c.liveCount,
      };
    },

    async compact(id, compactOptions = {}) {
      assertOpen();
      assertWritable();
      const keep = compactOptions.keepRecentTokens;
      if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `keepRecentTokens must be an integer >= 0, got ${String(keep)}`,
        );
      }
      const reply = await send<CompactReply>(id, (r) => ({
        type: 'COMPACT',
        reply: r,
        ...(keep === undefined ? {} : { keepRecentTokens: keep }),
      }));
      if (!reply.ok) throw toSessionError(reply.error, id);
      return { ...reply.result };
    },

    async cancelCompaction(id) {
      assertOpen();
      const { ref } = await loadedDir(id);
      return cancelRunningCompaction(ref);
    },

    async buildRequest(id, userMessage, requestOptions = {}) {
      assertOpen();
      if (userMessage === undefined || userMessage === null) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          'buildRequest needs the new user message (a string or a list ' +
            'of blocks); use previewRequest to see a request without one',
        );
      }
      // A copy: the request's blocks would otherwise be the stored messages' own objects.
      return structuredClone(
        await sessionRequest(conversation, id, userMessage, { ...requestOptions, makeRoom: !readOnly }),
      );
    },

    async previewRequest(id, userMessage, requestOptions = {}) {
      assertOpen();
      return structuredClone(
        await sessionRequest(conversation, id, userMessage ?? null, { ...requestOptions, makeRoom: false }),
      );
    },

    async send(id, userMessage, sendOptions = {}) {
      assertOpen();
      assertWritable();
      return sendTurn(conversation, id, userMessage, sendOptions);
    },

    async calibrate(id, calibrateOptions = {}) {
      assertOpen();
      const result = await calibrateWithApi(conversation, id, calibrateOptions);
      return {
        model: result.model,
        factor: result.factor,
        samples: result.samples,
        estimated: result.estimated,
        counted: result.counted,
      };
    },

    subscribe(listener) {
      if (typeof listener !== 'function')
        throw new SessionError('INVALID_ARGUMENT', 'runtime', 'subscribe needs a function');
      return bus.subscribe(listener);
    },

    activeSessionIds() {
      return Object.keys(supervisor.getSnapshot().context.sessions).sort();
    },

    async close() {
      if (closed) return;
      closed = true;
      // Calls already made finish first (an append in flight is written and acknowledged).
      await operations.settled();
      stopped = true;
      supervisor.send({ type: 'STOP_ALL' });
      await waitFor(supervisor, (s) => s.status !== 'active' || s.matches('stopped'), { timeout: Infinity });
      supervisor.stop();
      if (!given) await store.close();
    },

    // `await using runtime = await createSessionRuntime(...)` closes it at the end of the block.
    [Symbol.asyncDispose]() {
      return runtime.close();
    },
  };

  const unwrapped = { compact: runtime.compact, addMessage: runtime.addMessage };
  // The supervisor hears of a session's calls when the first starts and after the last ends.
  const leases = createLeaseBook((event) => {
    if (supervisor.getSnapshot().status === 'active') supervisor.send(event);
  });
  // Every asynchronous call is tracked, so that close() lets the calls already made finish.
  const operations = trackCalls(runtime, {
    isClosed: () => closed,
    closedError,
    lease: leases.lease,
  });

  return runtime;
}
