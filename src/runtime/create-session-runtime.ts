/**
 * createSessionRuntime: wires the statecharts to the store, the token estimator and the
 * compactor with `machine.provide()`, and offers the public API.
 */
import { randomUUID } from 'node:crypto';
import { createActor, waitFor, type AnyActorRef, type InspectionEvent } from 'xstate';
import {
  machineStateOf,
  requestTokensOf,
  thresholdOf,
  type AppendReply,
  type ClearReply,
  type CompactReply,
  type SessionActorRef,
  type SessionMachineEmitted,
  type SessionMachineInput,
} from '../../machines/session.machine.js';
import { sessionIdOfActor, supervisorMachine } from '../../machines/supervisor.machine.js';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicCompactor, DEFAULT_ANTHROPIC_MODEL, hasAnthropicApiKey } from '../compaction/anthropic-compactor.js';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import { emptyCheckpoint } from '../compaction/run-clear.js';
import { SessionError, describeError } from '../core/errors.js';
import { assertSessionId, sessionIdOf, validateKey } from '../core/ids.js';
import {
  SCHEMA_VERSION,
  type AgentDescription,
  type AgentType,
  type Limits,
  type SessionContext,
  type SessionKey,
  type SessionMachineState,
  type SessionRecord,
} from '../core/types.js';
import { renderAgentDescription, renderContext } from '../request/format.js';
import { JsonFileSessionStore, type SessionStore } from '../store/session-store.js';
import type { SessionDirectory } from '../store/session-directory.js';
import { TokenCalibration } from '../tokens/calibration.js';
import { createTokenEstimator } from '../tokens/token-estimator.js';
import { calibrateWithApi, sendTurn, sessionRequest, type ConversationDeps } from './conversation.js';
import { DEFAULT_AGENT_PROFILES, type AgentProfile } from './agent-profiles.js';
import { EventBus, type SessionEvent } from './events.js';
import { resolveLimits } from './limits.js';
import { provideSessionEffects, type ActiveSession } from './session-effects.js';
import { infoOf, placeholderInfo, statsOf, toSessionError } from './session-info.js';
import type { SessionInfo, SessionRuntime, SessionRuntimeOptions } from './types.js';
import { validateChecks, validateMessageInput, validatePlainObject } from './validate.js';

export type { Clock, CreateSessionOptions, SessionInfo, SessionRuntime, SessionRuntimeOptions, SizeEstimate } from './types.js';

const TRACKED = [
  'createSession',
  'getSession',
  'listSessions',
  'addMessage',
  'getMessages',
  'getHistory',
  'getCheckpoint',
  'getContext',
  'getAgentDescription',
  'estimateSize',
  'compact',
  'setContext',
  'setAgentDescription',
  'buildRequest',
  'previewRequest',
  'send',
  'calibrate',
  'clearMessages',
  'reset',
  'exportSession',
  'archiveSession',
  'recordChecks',
] as const satisfies readonly (keyof SessionRuntime)[];


/**
 * Opens a root and returns its session runtime: one supervisor, one actor per session in use.
 *
 * @throws SessionError `ROOT_LOCKED` naming the holder when another runtime (in this process or
 *   another) has the root open for writing; `INVALID_ARGUMENT` for bad options.
 * @example
 * ```ts
 * const runtime = await createSessionRuntime({ root: process.cwd() })
 * const s = await runtime.createSession({ type: 'task', agentType: 'dev', featureId: 'f1', taskId: 't1', taskState: 'in_dev' })
 * await runtime.addMessage(s.id, { role: 'user', content: 'Implement the parser' })
 * await runtime.close()
 * ```
 */
export async function createSessionRuntime(options: SessionRuntimeOptions): Promise<SessionRuntime> {
  if (typeof options !== 'object' || options === null || typeof options.root !== 'string' || options.root === '') {
    throw new SessionError('INVALID_ARGUMENT', 'runtime', 'createSessionRuntime needs { root: "<directory>" }');
  }
  const baseLimits = resolveLimits(options.limits);
  const profiles: Record<AgentType, AgentProfile & { resolved: Limits }> = Object.fromEntries(
    (Object.keys(DEFAULT_AGENT_PROFILES) as AgentType[]).map((type) => {
      const override = options.agents?.[type];
      const description = override?.description ?? DEFAULT_AGENT_PROFILES[type].description;
      // Precedence: the library's profile defaults, then the runtime's limits, then this type's.
      const limits = { ...DEFAULT_AGENT_PROFILES[type].limits, ...options.limits, ...override?.limits };
      return [type, { ...DEFAULT_AGENT_PROFILES[type], description, limits, resolved: resolveLimits(limits) }];
    }),
  ) as Record<AgentType, AgentProfile & { resolved: Limits }>;
  const estimator = options.estimator ?? createTokenEstimator();
  const compactor = options.compactor ?? (hasAnthropicApiKey() ? new AnthropicCompactor({ estimator }) : new OfflineCompactor({ estimator }));
  const model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const calibration = options.calibration ?? new TokenCalibration();
  let client: Anthropic | undefined = options.client;
  const now = options.now ?? (() => new Date());
  const readOnly = options.readOnly ?? false;
  const store: SessionStore = await JsonFileSessionStore.open({
    root: options.root,
    readOnly,
    durable: options.durable ?? true,
    description: `dagent-sessions runtime (pid ${process.pid})`,
    ...(options.foldMinBytes === undefined ? {} : { foldMinBytes: options.foldMinBytes }),
  });
  const bus = new EventBus((error) => console.error('[dagent-sessions] [runtime] an event listener threw:', error));
  const active = new Map<string, ActiveSession>();
  const creating = new Map<string, Promise<SessionInfo>>();
  const commits = new Map<string, Promise<unknown>>();
  const knownStates = new Map<string, SessionMachineState>();
  const watched = new WeakSet<object>();
  /** close() was called: new calls are refused. */
  let closed = false;
  /** The supervisor is stopping: nothing can reach a session any more. */
  let stopped = false;
  const at = () => now().toISOString();
  const publish = (event: SessionEvent) => bus.publish(event);

  const session = provideSessionEffects({ store, active, commits, compactor, estimator, now, readOnly, limitsOf, publish, writeRecord });

  const supervisor = createActor(supervisorMachine.provide({ actors: { session } }), {
    input: options.supervisor ?? {},
    ...(options.clock ? { clock: options.clock } : {}),
    inspect: (event) => {
      observe(event);
      const inspect = options.inspect;
      if (typeof inspect === 'function') inspect(event);
      else inspect?.next?.(event);
    },
  });

  // What the runtime and the supervisor learn of sessions comes from inspection events.
  function observe(event: InspectionEvent): void {
    const ref = event.actorRef as AnyActorRef;
    const sessionId = typeof ref.id === 'string' ? sessionIdOfActor(ref.id) : null;
    if (sessionId === null) return;
    if (event.type === '@xstate.actor' && !watched.has(ref)) {
      watched.add(ref);
      ref.on('*', (emitted: { type: string }) => republish(emitted as never));
    }
    if (event.type !== '@xstate.snapshot') return;
    const state = machineStateOf(event.snapshot as ReturnType<SessionActorRef['getSnapshot']>);
    const previous = knownStates.get(sessionId) ?? 'closed';
    if (state === previous) return;
    knownStates.set(sessionId, state);
    publish({ type: 'session.state.changed', sessionId, at: at(), from: previous, to: state });
    if (supervisor.getSnapshot().status === 'active') supervisor.send({ type: 'SESSION.STATE', sessionId, state });
  }

  function republish(emitted: SessionMachineEmitted): void {
    const base = { sessionId: emitted.sessionId, at: at() };
    switch (emitted.type) {
      case 'message.appended':
        for (const message of emitted.messages) publish({ ...base, type: 'session.message.appended', message, liveTokens: emitted.liveTokens });
        return;
      case 'compaction.started':
        publish({ ...base, type: 'session.compaction.started', trigger: emitted.trigger, attempt: emitted.attempt, watermarkSeq: emitted.watermarkSeq, tokensBefore: emitted.tokensBefore, compactor: compactor.name });
        return;
      case 'compaction.completed': {
        const r = emitted.result;
        publish({ ...base, type: 'session.compaction.completed', compactor: r.compactor, tokensBefore: r.tokensBefore, tokensAfter: r.tokensAfter, messagesCompacted: r.messagesCompacted, durationMs: r.durationMs, checkpointVersion: r.checkpointVersion, escalation: r.escalation, result: r });
        return;
      }
      case 'cleared':
        publish({ ...base, type: emitted.result.mode === 'reset' ? 'session.reset' : 'session.cleared', archivedMessages: emitted.result.archivedMessages, checkpointVersion: emitted.result.checkpointVersion });
        return;
      case 'compaction.failed':
        publish({ ...base, type: 'session.compaction.failed', code: emitted.failure.code, reason: emitted.failure.message, retryable: emitted.failure.retryable, attempts: emitted.failure.attempts, willRetryInMs: emitted.willRetryInMs, failure: emitted.failure });
        return;
    }
  }

  supervisor.start();

  function limitsOf(key: SessionKey): Limits {
    return profiles[key.agentType].resolved;
  }

  async function writeRecord(sessionId: string, dir: SessionDirectory, requestTokens?: number): Promise<void> {
    const record = dir.record;
    if (!record) return;
    await dir.writeRecord({ ...record, updatedAt: at(), stats: statsOf(dir, requestTokens ?? record.stats.lastRequestTokens) });
  }

  function closedError(): SessionError {
    return new SessionError('RUNTIME_CLOSED', 'runtime', `the runtime of ${store.root} is closed; create a new one with createSessionRuntime`);
  }

  // Inside a call already made, only a stopped supervisor ends it: close() waits for such calls.
  function assertOpen(): void {
    if (stopped) throw closedError();
  }

  function assertWritable(): void {
    if (readOnly) throw new SessionError('INVALID_ARGUMENT', 'runtime', `the runtime of ${store.root} was opened readOnly; open it without readOnly to change sessions`);
  }

  /** The session's live actor, spawned (and loaded from disk) on first use. */
  async function actorOf(sessionId: string): Promise<SessionActorRef> {
    assertOpen();
    assertSessionId(sessionId);
    for (let attempt = 0; attempt < 50; attempt++) {
      const entry = supervisor.getSnapshot().context.sessions[sessionId];
      if (entry && !entry.closing && entry.ref.getSnapshot().status === 'active') {
        supervisor.send({ type: 'SESSION.OPEN', sessionId, input: entry.input }); // marks it used
        const snapshot = await waitFor(entry.ref, (s) => !s.matches('loading') || s.status !== 'active');
        if (snapshot.matches('unavailable')) {
          // Not kept in memory: once a person repairs the files, the next call loads it afresh.
          supervisor.send({ type: 'SESSION.STOP', sessionId });
          throw toSessionError(snapshot.context.loadError, sessionId);
        }
        if (snapshot.status === 'active' && !snapshot.matches('closing')) return entry.ref;
        continue;
      }
      if (entry) {
        // On its way out (idle stop): wait until it is gone, then open it afresh.
        await waitFor(supervisor, (s) => s.context.sessions[sessionId]?.ref !== entry.ref || s.status !== 'active');
        continue;
      }
      if (!(await store.session(sessionId).exists())) {
        throw new SessionError('SESSION_NOT_FOUND', 'runtime', `no session "${sessionId}" under ${store.root}; create it with createSession(key)`, {
          details: { sessionId },
        });
      }
      const key = await readKey(sessionId);
      const limits = limitsOf(key);
      const input: SessionMachineInput = {
        sessionId,
        limits,
        autoCompact: !readOnly,
        correction: calibration.factor(model),
        ...(options.compaction?.timeoutMs === undefined ? {} : { compactionTimeoutMs: options.compaction.timeoutMs }),
        ...(options.compaction?.retryBaseMs === undefined ? {} : { retryBaseMs: options.compaction.retryBaseMs }),
        ...(options.compaction?.retryMaxMs === undefined ? {} : { retryMaxMs: options.compaction.retryMaxMs }),
      };
      supervisor.send({ type: 'SESSION.OPEN', sessionId, input });
    }
    throw new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${sessionId} could not be opened: its actor keeps stopping`);
  }

  async function readKey(sessionId: string): Promise<SessionKey> {
    return validateKey((await store.session(sessionId).readRecord()).key);
  }

  async function loadedDir(sessionId: string): Promise<{ ref: SessionActorRef; dir: SessionDirectory; limits: Limits }> {
    const ref = await actorOf(sessionId);
    const entry = active.get(sessionId);
    if (!entry) throw new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${sessionId} is not loaded; try again`, { retryable: true });
    return { ref, dir: entry.dir, limits: entry.limits };
  }

  /** The loaded session, refusing writes to an archived one. */
  async function writableDir(sessionId: string) {
    const loaded = await loadedDir(sessionId);
    if (loaded.dir.record?.status === 'archived') {
      throw new SessionError('SESSION_ARCHIVED', 'runtime', `session ${sessionId} is archived: it can be read and exported, not changed; create a new session for new work`, {
        details: { sessionId },
      });
    }
    return loaded;
  }

  async function clearOrReset(sessionId: string, mode: 'clear' | 'reset') {
    assertWritable();
    await writableDir(sessionId);
    const reply = await send<ClearReply>(sessionId, (r) => ({ type: 'CLEAR', mode, reply: r }));
    if (!reply.ok) throw toSessionError(reply.error, sessionId);
    return { archivedMessages: reply.result.archivedMessages, segment: reply.result.segment, checkpointVersion: reply.result.checkpointVersion };
  }

  /**
   * Sends a request to the session's actor and waits for its reply. An actor that was stopped
   * (idle sweep) between lookup and send, or that is closing, has written nothing: the request
   * goes to a fresh actor instead. One that crashes before answering is reported.
   */
  async function send<T extends { ok: boolean; error?: unknown }>(
    sessionId: string,
    build: (reply: (value: T) => void) => Parameters<SessionActorRef['send']>[0],
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const ref = await actorOf(sessionId);
      const reply = await new Promise<T | null>((resolve, reject) => {
        if (ref.getSnapshot().status !== 'active') return resolve(null);
        const subscription = ref.subscribe({
          complete: () => resolve(null),
          error: (error) =>
            reject(new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${sessionId}: its actor crashed (${describeError(error)}) and is being reloaded from disk; check getMessages before sending again`, { cause: error, retryable: true })),
        });
        ref.send(
          build((value) => {
            subscription.unsubscribe();
            resolve(value);
          }),
        );
      });
      const closing = reply !== null && !reply.ok && (reply.error as { code?: unknown } | null)?.code === 'SESSION_UNAVAILABLE';
      if ((reply === null || closing) && attempt < 3) continue;
      if (reply === null) throw new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${sessionId} keeps stopping; try again`, { retryable: true });
      return reply;
    }
  }

  const conversation: ConversationDeps = {
    loaded: loadedDir,
    // The unwrapped methods: a turn in flight finishes even when close() was called meanwhile.
    compact: (id) => unwrapped.compact(id),
    addMessage: (id, message) => unwrapped.addMessage(id, message),
    estimator,
    calibration,
    model,
    client: () => {
      if (client) return client;
      if (!hasAnthropicApiKey()) {
        throw new SessionError('INVALID_ARGUMENT', 'runtime', 'send and calibrate need a client: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL if needed), or pass createSessionRuntime({ client }) or send(id, message, { client })');
      }
      client = new Anthropic();
      return client;
    },
    onCalibrated: (calibratedModel, factor) => {
      if (calibratedModel !== model) return;
      // Thresholds of every live session use the new factor; new actors get it as input.
      for (const entry of Object.values(supervisor.getSnapshot().context.sessions)) {
        if (entry.ref.getSnapshot().status === 'active') entry.ref.send({ type: 'CALIBRATION.CHANGED', correction: factor });
      }
    },
  };

  const runtime: SessionRuntime = {
    root: store.root,
    compactor,
    estimator,
    calibration,

    async createSession(keyInput, createOptions = {}) {
      assertOpen();
      assertWritable();
      const key = validateKey(keyInput);
      const id = sessionIdOf(key);
      const pending = creating.get(id);
      if (pending) return pending;
      const work = (async () => {
        const dir = store.session(id);
        if (!(await dir.exists())) {
          const context = createOptions.context === undefined ? undefined : (validatePlainObject(createOptions.context, 'context') as SessionContext);
          const description = createOptions.agentDescription === undefined
            ? profiles[key.agentType].description
            : (validatePlainObject(createOptions.agentDescription, 'agentDescription') as AgentDescription);
          const time = at();
          const record: SessionRecord = {
            schemaVersion: SCHEMA_VERSION,
            id,
            key,
            createdAt: time,
            updatedAt: time,
            status: 'active',
            stats: { totalMessages: 0, totalTokens: 0, totalCompactions: 0, lastCompactionAt: null, lastRequestTokens: 0 },
          };
          // session.json is written last: a directory without it is not a session yet.
          await dir.prepare();
          if (context) await dir.writeContext(context);
          await dir.writeAgentDescription(description);
          await dir.create(record);
          publish({ type: 'session.created', sessionId: id, at: time, key });
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
      for (const id of await store.listSessionIds()) {
        const entry = supervisor.getSnapshot().context.sessions[id];
        const loaded = active.get(id);
        if (entry && loaded?.dir.record) {
          infos.push(infoOf(entry.ref, loaded.dir, loaded.dir.record, loaded.limits, compactor.name));
          continue;
        }
        // Not in memory: what session.json says, without spawning an actor.
        const dir = store.session(id);
        try {
          if (!(await dir.exists())) continue; // created half-way: not a session yet
          const record = await dir.readRecord();
          infos.push(infoOf(null, null, record, limitsOf(validateKey(record.key)), compactor.name));
        } catch (error) {
          const e = toSessionError(error, id);
          infos.push({ ...placeholderInfo(id, compactor.name, baseLimits), error: { code: e.code, message: e.message }, state: 'failed' });
        }
      }
      return infos;
    },

    async addMessage(id, input) {
      assertOpen();
      assertWritable();
      const valid = validateMessageInput(input);
      await writableDir(id);
      const message = {
        id: `msg_${randomUUID()}`,
        role: valid.role,
        content: valid.content,
        timestamp: valid.timestamp ?? at(),
        tokens: estimator.estimateMessage(valid),
        ...(valid.metadata === undefined ? {} : { metadata: valid.metadata }),
      };
      const reply = await send<AppendReply>(id, (r) => ({ type: 'APPEND', message, reply: r }));
      if (!reply.ok) throw toSessionError(reply.error, id);
      return structuredClone(reply.message);
    },

    async getMessages(id) {
      const { dir } = await loadedDir(id);
      return structuredClone([...dir.messages]);
    },

    async getHistory(id) {
      const { dir } = await loadedDir(id);
      // Live first, then the archive: a compaction committing in between can then only make a
      // message appear in both, which the seq filter removes, never in neither.
      const live = [...dir.messages];
      const archived = await dir.readArchive();
      const through = archived[archived.length - 1]?.seq ?? -1;
      return structuredClone([...archived, ...live.filter((m) => m.seq > through)]);
    },

    async getCheckpoint(id) {
      const { dir } = await loadedDir(id);
      return dir.checkpoint ? structuredClone(dir.checkpoint) : null;
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
        breakdown: { agentDescription: c.descriptionTokens, context: c.contextTokens, checkpoint: c.checkpointTokens, messages: c.liveTokens, replyReserve: limits.replyReserveTokens },
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
        throw new SessionError('INVALID_ARGUMENT', 'runtime', `keepRecentTokens must be an integer >= 0, got ${String(keep)}`);
      }
      await writableDir(id);
      const reply = await send<CompactReply>(id, (r) => ({ type: 'COMPACT', reply: r, ...(keep === undefined ? {} : { keepRecentTokens: keep }) }));
      if (!reply.ok) throw toSessionError(reply.error, id);
      return reply.result;
    },

    async setContext(id, context) {
      assertOpen();
      assertWritable();
      const valid = validatePlainObject(context, 'context') as SessionContext;
      const { ref, dir } = await writableDir(id);
      await dir.writeContext(valid);
      ref.send({ type: 'FIXED.CHANGED', contextTokens: estimator.estimate(renderContext(valid)) });
      publish({ type: 'session.context.changed', sessionId: id, at: at(), what: 'context' });
    },

    async setAgentDescription(id, description) {
      assertOpen();
      assertWritable();
      const valid = validatePlainObject(description, 'agentDescription') as AgentDescription;
      if (typeof valid.role !== 'string' || valid.role === '') {
        throw new SessionError('INVALID_ARGUMENT', 'runtime', 'agentDescription needs a non-empty "role" string');
      }
      const { ref, dir } = await writableDir(id);
      await dir.writeAgentDescription(valid);
      ref.send({ type: 'FIXED.CHANGED', descriptionTokens: estimator.estimate(renderAgentDescription(valid)) });
      publish({ type: 'session.context.changed', sessionId: id, at: at(), what: 'agentDescription' });
    },

    async buildRequest(id, userMessage, requestOptions = {}) {
      assertOpen();
      if (userMessage === undefined || userMessage === null) {
        throw new SessionError('INVALID_ARGUMENT', 'runtime', 'buildRequest needs the new user message (a string or a list of blocks); use previewRequest to see a request without one');
      }
      return sessionRequest(conversation, id, userMessage, { ...requestOptions, makeRoom: !readOnly });
    },

    async previewRequest(id, userMessage, requestOptions = {}) {
      assertOpen();
      return sessionRequest(conversation, id, userMessage ?? null, { ...requestOptions, makeRoom: false });
    },

    async send(id, userMessage, sendOptions = {}) {
      assertOpen();
      assertWritable();
      return sendTurn(conversation, id, userMessage, sendOptions);
    },

    async calibrate(id, calibrateOptions = {}) {
      assertOpen();
      const result = await calibrateWithApi(conversation, id, calibrateOptions);
      return { model: result.model, factor: result.factor, samples: result.samples, estimated: result.estimated, counted: result.counted };
    },

    async clearMessages(id) {
      return clearOrReset(id, 'clear');
    },

    async reset(id) {
      return clearOrReset(id, 'reset');
    },

    async exportSession(id) {
      const { dir } = await loadedDir(id);
      return {
        exportedAt: at(),
        session: await runtime.getSession(id),
        checkpoint: dir.checkpoint ? structuredClone(dir.checkpoint) : null,
        context: structuredClone(dir.context),
        agentDescription: structuredClone(dir.agentDescription),
        history: await runtime.getHistory(id),
      };
    },

    async archiveSession(id) {
      assertWritable();
      const { dir } = await loadedDir(id);
      const record = dir.record!;
      if (record.status !== 'archived') {
        await dir.writeRecord({ ...record, status: 'archived', updatedAt: at() });
        publish({ type: 'session.archived', sessionId: id, at: at() });
      }
      return runtime.getSession(id);
    },

    async recordChecks(id, checks) {
      assertWritable();
      const valid = validateChecks(checks);
      const { ref, dir } = await writableDir(id);
      const checkpoint = await dir.recordChecks(valid, at(), () => emptyCheckpoint(at()));
      ref.send({ type: 'FIXED.CHANGED', checkpointTokens: estimator.estimateCheckpoint(checkpoint) });
      publish({ type: 'session.checks.recorded', sessionId: id, at: at(), checks: structuredClone(valid) });
      return structuredClone(checkpoint);
    },

    subscribe(listener) {
      if (typeof listener !== 'function') throw new SessionError('INVALID_ARGUMENT', 'runtime', 'subscribe needs a function');
      return bus.subscribe(listener);
    },

    activeSessionIds() {
      return Object.keys(supervisor.getSnapshot().context.sessions).sort();
    },

    async close() {
      if (closed) return;
      closed = true;
      // Calls already made finish first (an append in flight is written and acknowledged).
      await Promise.allSettled([...operations]);
      stopped = true;
      supervisor.send({ type: 'STOP_ALL' });
      await waitFor(supervisor, (s) => s.status !== 'active' || s.matches('stopped'), { timeout: Infinity });
      supervisor.stop();
      await store.close();
    },
  };

  const unwrapped = { compact: runtime.compact, addMessage: runtime.addMessage };
  // Every asynchronous call is tracked, so that close() lets the calls already made finish.
  const operations = new Set<Promise<unknown>>();
  for (const name of TRACKED) {
    const original = runtime[name] as (...args: unknown[]) => Promise<unknown>;
    (runtime as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      if (closed) return Promise.reject(closedError());
      const operation = original(...args);
      operations.add(operation);
      const forget = () => operations.delete(operation);
      operation.then(forget, forget);
      return operation;
    };
  }

  return runtime;
}
