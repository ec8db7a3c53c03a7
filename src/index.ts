/**
 * dagent-sessions: durable, token-bounded LLM agent sessions as XState actors.
 */
export { createSessionRuntime } from './runtime/create-session-runtime.js';
export type {
  Clock,
  CreateSessionOptions,
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

export { SessionError, isSessionError } from './core/errors.js';
export type { ErrorOrigin, SessionErrorCode, SessionErrorOptions } from './core/errors.js';
export { sessionIdOf, validateKey } from './core/ids.js';
export { planCompaction } from './core/plan-compaction.js';
export type { CompactionBudget, CompactionPlan } from './core/plan-compaction.js';
export * from './core/types.js';

export type {
  Compactor,
  CompactionInput,
  CompactionProgress,
  CompactOptions,
} from './compaction/compactor.js';
export { OfflineCompactor } from './compaction/offline-compactor.js';
export type { OfflineCompactorOptions } from './compaction/offline-compactor.js';

export { TiktokenEstimator, createTokenEstimator } from './tokens/token-estimator.js';
export type { TokenEstimator, TokenEstimatorOptions, TokenEncoding } from './tokens/token-estimator.js';

export { JsonFileSessionStore } from './store/session-store.js';
export type { SessionStore, SessionStoreOptions } from './store/session-store.js';
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
export type { SendOptions, SendResult, SessionRequest } from './runtime/conversation.js';
export { TokenCalibration } from './tokens/calibration.js';
export type { CalibrationState, TokenCalibrationOptions } from './tokens/calibration.js';

export { loadTranscript, parseTranscript } from './integration/transcript.js';
export type { Transcript } from './integration/transcript.js';
export { replayConversation } from './integration/replay.js';
export type { ReplayReport, ReplayCompaction } from './integration/replay.js';

export type { CompactOutput, CompactionFailure } from '../machines/session.machine.js';
export {
  AnthropicCompactor,
  DEFAULT_ANTHROPIC_MODEL,
  hasAnthropicApiKey,
  type AnthropicCompactorOptions,
  type AnthropicUsage,
} from './compaction/anthropic-compactor.js';

export { agentForTaskState } from './runtime/agent-profiles.js';
export { loadTask, saveTask, summarizeDag, taskContext, withSession } from './integration/task.js';
export type { DagTask, DagTaskState, DagView, LoadTaskOptions, TaskSessions } from './integration/task.js';
export { AGENT_CHECK_ID, createTaskLoop, defaultTaskPrompt } from './integration/task-loop.js';
export type {
  IterationResult,
  TaskAgent,
  TaskAgentInput,
  TaskAgentOutput,
  TaskLoop,
  TaskLoopOptions,
  TaskLoopOutcome,
  TaskLoopResult,
} from './integration/task-loop.js';

export {
  SESSION_CHANNELS,
  SESSION_EVENT_CHANNEL,
  SESSION_SUBSCRIBE_CHANNEL,
  SESSION_UNSUBSCRIBE_CHANNEL,
  SessionIpcError,
  ipcErrorCodeOf,
  isSessionChannel,
  methodOf,
} from './ipc/channels.js';
export type {
  IpcError,
  IpcErrorCode,
  IpcMigrateOptions,
  IpcResult,
  IpcSendOptions,
  SessionAPI,
  SessionChannel,
  TransportErrorCode,
} from './ipc/channels.js';
export {
  DEFAULT_RECENT_MESSAGES,
  getRecentMessages,
  runtimeMetrics,
  sessionMetrics,
} from './ipc/session-queries.js';
export type { RuntimeMetrics, SessionMetrics } from './ipc/session-queries.js';
export { createSessionHandlers, handlerOf, toIpcError } from './ipc/handlers.js';
export type { ChannelResult, SessionHandler, SessionHandlers } from './ipc/handlers.js';
export { createSessionApiFromInvoke } from './ipc/api.js';
export type { EventFeed, InvokeChannel } from './ipc/api.js';
export { registerSessionIpc } from './ipc/electron.js';
export type {
  IpcMainInvokeEventLike,
  IpcMainLike,
  SessionIpcOptions,
  WebContentsLike,
} from './ipc/electron.js';
export { createSessionApiFromIpcRenderer, exposeSessionApi } from './ipc/preload.js';
export type { ContextBridgeLike, IpcRendererLike } from './ipc/preload.js';
export { serveSessions } from './ipc/http.js';
export type { ServeSessionsOptions, SessionServer } from './ipc/http.js';
export { createSessionClient } from './ipc/client.js';
export type { SessionClient, SessionClientOptions } from './ipc/client.js';

export {
  DEFAULT_CHECKPOINT_KEEP_TOKENS,
  migrateAll,
  migrateDevSession,
  migratePMChat,
} from './migration/migrate.js';
export { rollbackMigration } from './migration/rollback.js';
export { formatMigrationReport, formatRollbackReport } from './migration/format-report.js';
export type {
  EntryProblem,
  FileReport,
  FileStatus,
  LegacyKind,
  LegacyLayout,
  ManifestFile,
  MigrationManifest,
  MigrationOptions,
  MigrationReport,
  MigrationTotals,
  RollbackOptions,
  RollbackReport,
  SearchedPlace,
} from './migration/types.js';
export { loadChat, saveChat } from './compat/legacy-chat.js';
export type { LegacyChat, LegacyChatEntry, LegacyChatOptions } from './compat/legacy-chat.js';

export { loadClaudeCodeLog, parseClaudeCodeLog } from './integration/claude-code-log.js';
export type {
  ClaudeCodeLogOptions,
  ClaudeCodeLogStats,
  ClaudeCodeTranscript,
  SkippedLine,
} from './integration/claude-code-log.js';
export { detectTranscriptFormat, readTranscriptFile } from './integration/transcript-file.js';
export type { TranscriptFile, TranscriptFormat } from './integration/transcript-file.js';
