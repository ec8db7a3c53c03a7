/**
 * dagent-sessions: durable, token-bounded LLM agent sessions as XState actors. The root holds what
 * a host needs to run sessions: the runtime, its types and errors, compactors, the token
 * estimator, limits, events and request building. The rest has its own entry:
 * `dagent-sessions/ipc` (the channel table and Electron IPC), `/preload`, `/http` (HTTP, the
 * inspector page), `/migration` (legacy files, transcripts, Claude Code logs), `/dag` (tasks and
 * the Ralph loop), `/react` (the inspector's components), `/machines` (the statecharts),
 * `/restate` (sessions on a Restate server) and `/conformance` (the store contract's test suite,
 * for authors of stores).
 */
export { createSessionRuntime } from './runtime/create-session-runtime.js';
export type {
  Clock,
  CreateSessionOptions,
  HistoryQuery,
  SessionInfo,
  SessionRuntime,
  SessionRuntimeOptions,
  SizeEstimate,
} from './runtime/create-session-runtime.js';
export type { SessionEvent, SessionEventListener, SessionEventType } from './runtime/events.js';
export { DEFAULT_AGENT_PROFILES } from './runtime/agent-profiles.js';
export type { AgentOptions, AgentProfile, AgentRegistry, AgentsOption } from './runtime/agent-profiles.js';
export type { InitialCheckpoint } from './runtime/initial-checkpoint.js';
export { DEFAULT_MAX_TOKENS, defaultLimits, resolveLimits } from './runtime/limits.js';
export { fixedPartsRoom, noCompactionCanHelp, thresholdOutOfReach } from './core/fixed-parts-room.js';

export { SESSION_ERROR_CODES, SessionError, isSessionError, isSessionErrorCode } from './core/errors.js';
export type { ErrorOrigin, SessionErrorCode, SessionErrorOptions } from './core/errors.js';
export { sessionIdOf, validateKey } from './core/ids.js';
export { planCompaction } from './core/plan-compaction.js';
export type { CompactionBudget, CompactionPlan } from './core/plan-compaction.js';
export * from './core/types.js';
export type * from './core/ledger-types.js';
export type * from './core/checkpoint-change.js';
export type { ClearOptions, ClearResult } from './runtime/types.js';
export { isInternalMessage } from './core/request-size.js';

export type {
  Compactor,
  CompactionInput,
  CompactionProgress,
  CompactOptions,
} from './compaction/compactor.js';
export { OfflineCompactor } from './compaction/offline-compactor.js';
export type { OfflineCompactorOptions } from './compaction/offline-compactor.js';

export { TiktokenEstimator, createTokenEstimator } from './tokens/token-estimator.js';
export type {
  LaterCountOptions,
  TokenEstimator,
  TokenEstimatorOptions,
  TokenEncoding,
} from './tokens/token-estimator.js';

export { JsonFileSessionStore } from './store/session-store.js';
export type { SessionStoreOptions } from './store/session-store.js';
export type {
  ArchivePage,
  ArchiveQuery,
  CommitResult,
  InitialFiles,
  SessionCommit,
  SessionCounts,
  SessionHead,
  SessionListing,
  SessionPresence,
  SessionStore,
  SessionSummary,
  StoreCapabilities,
  StoreHooks,
  TokenCount,
} from './store/contract.js';
export { createMemorySessionStore, createMemoryStorage } from './store/memory-session-store.js';
export type { MemorySessionStoreOptions, MemoryStorage } from './store/memory-session-store.js';
export { SessionDirectory } from './store/session-directory.js';
export type { LoadedSession } from './store/session-directory.js';
export { JournaledChatFile } from './store/journaled-chat-file.js';
export type { JournalStats } from './store/journaled-chat-file.js';
export { DurableJsonFile } from './store/durable-json-file.js';

export { renderAgentDescription, renderCheckpoint, renderContext, contentToText } from './request/format.js';
export { buildRequest } from './request/build-request.js';
export type { BuiltRequest, RequestBreakdown, RequestFormat, RequestInput } from './request/build-request.js';
export { assertValidMessagesList, toMessagesList } from './request/messages-list.js';
export type { MessageParamLike } from './request/messages-list.js';
export type { SystemBlock } from './request/cache-breakpoints.js';
export type { SendOptions, SendResult, SessionRequest, TurnUsage } from './runtime/conversation.js';
export { TokenCalibration } from './tokens/calibration.js';
export type { CalibrationState, TokenCalibrationOptions } from './tokens/calibration.js';

export type { CompactOutput, CompactionFailure } from '../machines/session.machine.js';
export {
  AnthropicCompactor,
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
  type AnthropicCompactorOptions,
  type AnthropicUsage,
} from './compaction/anthropic-compactor.js';
