/**
 * createSessionRuntime: wires the statecharts to the store, the token estimator and the
 * compactor with `machine.provide()`, and offers the public API.
 */
import { createActor, waitFor } from 'xstate';
import type { CompactReply } from '../../machines/session.machine.js';
import { supervisorMachine } from '../../machines/supervisor.machine.js';
import {
  AnthropicCompactor,
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
} from '../compaction/anthropic-compactor.js';
import { OfflineCompactor } from '../compaction/offline-compactor.js';
import { SessionError } from '../core/errors.js';
import { sessionIdOf, validateKey } from '../core/ids.js';
import type { Limits, SessionKey } from '../core/types.js';
import type { SessionStore } from '../store/contract.js';
import { JsonFileSessionStore } from '../store/session-store.js';
import { TokenCalibration } from '../tokens/calibration.js';
import { createTokenEstimator } from '../tokens/token-estimator.js';
import { assertRegistered, resolveCheckedAgentProfiles } from './agent-profiles.js';
import { calibrateWithApi, sendTurn, sessionRequest, type ConversationDeps } from './conversation.js';
import { EventBus, type SessionEvent } from './events.js';
import { resolveLimits } from './limits.js';
import { createSessionAccess } from './session-access.js';
import { checkpointEdits } from './checkpoint-edits.js';
import { sessionChanges } from './session-changes.js';
import { provideSessionEffects } from './session-effects.js';
import { infoOfListing } from './session-listing.js';
import { createAfterCommitWrites } from './after-commit-writes.js';
import type { SessionHandle } from './session-handle.js';
import { compactionInDoubt, infoOf, statsOf, toSessionError } from './session-info.js';
import { confirmCreated, createOrConfirm, type CreationDeps } from './create-session.js';
import { checkMethodOptions } from './method-options.js';
import { createSessionRegistry } from './session-registry.js';
import { sessionReads } from './session-reads.js';
import { createSessionObserver } from './session-observer.js';
import { trackCalls } from './track-calls.js';
import { unrefClock } from './unref-clock.js';
import { cancelRunningCompaction } from './cancel-compaction.js';
import type { SessionInfo, SessionRuntime, SessionRuntimeOptions } from './types.js';
import { createAppender } from './append.js';
import { createKeyLocks } from './idempotency.js';
import { checkRuntimeOptions, compactionTimingsOf, lazyClient } from './runtime-options.js';
import { mutableCopy } from '../store/freeze.js';
import { listenerErrorLog } from '../core/call-listener.js';

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
 *   another) has the root open for writing; `INVALID_ARGUMENT` for bad options, a name that is none
 *   of its options among them (also inside `limits`, `supervisor` and `compaction`).
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
  const { given, maxMessageBytes } = checkRuntimeOptions(options);
  const baseLimits = resolveLimits(options.limits);
  const estimator = options.estimator ?? createTokenEstimator();
  const profiles = await resolveCheckedAgentProfiles(options, estimator);
  const compactor =
    options.compactor ??
    (hasAnthropicApiKey() ? new AnthropicCompactor({ estimator }) : new OfflineCompactor({ estimator }));
  const model = options.model ?? DEFAULT_ANTHROPIC_MODEL;
  const calibration = options.calibration ?? new TokenCalibration();
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
      ...(options.syncAppends === undefined ? {} : { syncAppends: options.syncAppends }),
    }));
  const location = given ? (options.root ?? given.location) : store.location;
  const bus = new EventBus(listenerErrorLog('an event listener'));
  const at = () => now().toISOString();
  const publish = (event: SessionEvent) => bus.publish(event);
  // The one owner of loaded sessions, their calls and the runtime's lifecycle.
  const registry = createSessionRegistry({
    // The supervisor asks the registry which sessions calls use; a session's release is told only
    // while the supervisor is past its cap, so that it can come back under it at once.
    released: (sessionId) => {
      const snapshot = supervisor.getSnapshot();
      if (snapshot.status === 'active' && snapshot.context.overCap)
        supervisor.send({ type: 'SESSION.RELEASED', sessionId });
    },
    closedError,
  });

  const afterCommits = createAfterCommitWrites(); // what follows a commit, its caller gone on
  const session = provideSessionEffects({
    store,
    registry,
    compactor,
    estimator,
    now,
    readOnly,
    limitsOf,
    publish,
    writeRecord,
    afterCommits,
    tellInDoubt: (id, error) => refOf(id)?.send({ type: 'WRITE.IN_DOUBT', error }),
  });

  // What the runtime and the supervisor learn of sessions comes from the actors' own snapshots.
  const observer = createSessionObserver({
    registry,
    publish,
    at,
    compactor: compactor.name,
    listening: () => bus.listening,
    tellSupervisor: (sessionId, state) => {
      if (supervisor.getSnapshot().status === 'active')
        supervisor.send({ type: 'SESSION.STATE', sessionId, state });
    },
  });

  const supervisor = createActor(supervisorMachine.provide({ actors: { session } }), {
    input: { ...options.supervisor, uses: registry },
    // Default: unref'd timers, so that a script that never calls close() still exits (unref-clock.ts).
    clock: options.clock ?? unrefClock,
    // Only for a host that asks: the runtime itself needs no inspection event (session-observer.ts).
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });

  // Session actors are in its snapshot as soon as it spawns them (started, not yet loaded).
  supervisor.subscribe((snapshot) => observer.follow(snapshot.context.sessions));
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

  function assertWritable(): void {
    if (readOnly)
      throw new SessionError(
        'INVALID_ARGUMENT',
        'runtime',
        `the runtime of ${location} was opened readOnly; open it without readOnly to change sessions`,
      );
  }

  const { loadedDir, writableDir, send, reopen } = createSessionAccess({
    supervisor,
    store,
    location,
    registry,
    inputOf: (sessionId, key) => ({
      sessionId,
      limits: limitsOf(key),
      autoCompact: !readOnly,
      correction: calibration.factor(model),
      ...compactionTimingsOf(options),
    }),
  });

  const refOf = (id: string) => supervisor.getSnapshot().context.sessions[id]?.ref;
  const creation: CreationDeps = {
    ...{ store, profiles, estimator, at, limitsOf, publish, maxMessageBytes, registry, reopen },
    ...{ correction: () => calibration.factor(model), load: loadedDir },
  };
  const appender = createAppender({ send, loadedDir, registry, estimator, at, maxMessageBytes, refOf });

  const conversation: ConversationDeps = {
    loaded: loadedDir,
    // The untracked methods: a turn in flight finishes even when close() was called meanwhile.
    compact: (id) => api.compact(id),
    addMessage: (id, message, replyTo) =>
      replyTo === undefined ? api.addMessage(id, message) : appender.addMessage(id, message, replyTo),
    findByKey: (id, key) => appender.findByKey(id, key),
    exclusive: createKeyLocks().exclusive,
    maxMessageBytes,
    estimator,
    calibration,
    model,
    client: lazyClient(options.client),
    onCalibrated: (calibratedModel, factor) => {
      if (calibratedModel !== model) return;
      // Thresholds of every live session use the new factor; new actors get it as input.
      for (const entry of Object.values(supervisor.getSnapshot().context.sessions)) {
        if (entry.ref.getSnapshot().status === 'active')
          entry.ref.send({ type: 'CALIBRATION.CHANGED', correction: factor });
      }
    },
  };

  const assertOpen = registry.assertRunning;
  // The runtime's methods, untracked; `runtime` (below) is this object with its calls tracked.
  const api: SessionRuntime = {
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
      maxMessageBytes,
      at,
      publish,
      getSession: (id) => runtime.getSession(id),
      getHistory: (id) => runtime.getHistory(id),
      afterCommits,
    }),
    ...checkpointEdits({ loadedDir, writableDir, send, assertWritable, estimator, at, publish }),
    ...sessionReads({ loadedDir, store }),

    async createSession(keyInput, createOptions = {}) {
      assertOpen();
      assertWritable();
      const key = assertRegistered(profiles, validateKey(keyInput));
      checkMethodOptions('createSession', createOptions);
      await createOrConfirm(creation, key, sessionIdOf(key), createOptions ?? {});
      return runtime.getSession(sessionIdOf(key));
    },

    async getSession(id) {
      const { ref, dir, limits } = await loadedDir(id);
      return infoOf(ref, dir, dir.record!, limits, compactor.name);
    },

    async reopenSession(id) {
      if (!(await confirmCreated(creation, id))) await reopen(id);
      return runtime.getSession(id);
    },

    async listSessions() {
      assertOpen();
      const infos: SessionInfo[] = [];
      for (const listing of await store.list()) {
        const id = listing.id;
        const entry = supervisor.getSnapshot().context.sessions[id];
        const loaded = registry.entry(id);
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

    async compact(id, compactOptions = {}) {
      assertOpen();
      assertWritable();
      checkMethodOptions('compact', compactOptions);
      const keep = compactOptions?.keepRecentTokens;
      if (keep !== undefined && !(Number.isInteger(keep) && keep >= 0)) {
        throw new SessionError(
          'INVALID_ARGUMENT',
          'runtime',
          `keepRecentTokens must be an integer >= 0, got ${String(keep)}`,
        );
      }
      const inDoubt = compactionInDoubt(refOf(id), id); // no summary that the commit would refuse
      if (inDoubt) throw inDoubt;
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
      checkMethodOptions('buildRequest', requestOptions);
      // A copy: the request's blocks would otherwise be the stored messages' own objects.
      return mutableCopy(
        await sessionRequest(conversation, id, userMessage, { ...requestOptions, makeRoom: !readOnly }),
      );
    },

    async previewRequest(id, userMessage, requestOptions = {}) {
      assertOpen();
      checkMethodOptions('previewRequest', requestOptions);
      return mutableCopy(
        await sessionRequest(conversation, id, userMessage ?? null, { ...requestOptions, makeRoom: false }),
      );
    },

    async send(id, userMessage, sendOptions = {}) {
      assertOpen();
      assertWritable();
      return sendTurn(conversation, id, userMessage, sendOptions ?? {});
    },

    async calibrate(id, calibrateOptions = {}) {
      assertOpen();
      const result = await calibrateWithApi(conversation, id, calibrateOptions ?? {});
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

    // Calls already made finish first (an append in flight is written and acknowledged).
    close: () =>
      registry.closeAll(async () => {
        supervisor.send({ type: 'STOP_ALL' });
        await waitFor(supervisor, (s) => s.status !== 'active' || s.matches('stopped'), {
          timeout: Infinity,
        });
        supervisor.stop();
        await afterCommits.settledAll(); // each session's close waited already; a failed one did not
        if (!given) await store.close();
      }),

    // `await using runtime = await createSessionRuntime(...)` closes it at the end of the block.
    [Symbol.asyncDispose]() {
      return runtime.close();
    },
  };

  // Every asynchronous call is tracked, so that close() lets the calls already made finish.
  const runtime = trackCalls(api, registry);
  return runtime;
}
