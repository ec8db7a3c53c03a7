/**
 * `dagent-sessions/migration`: conversations from elsewhere into sessions. Legacy DAGent files
 * (`migrateAll`, `migratePMChat`, `migrateDevSession`, `rollbackMigration`, and `loadChat` /
 * `saveChat` for code that still reads the old shape), the shared transcripts' JSON and Claude
 * Code session logs (`readTranscriptFile`, `parseClaudeCodeLog`...), and `replayConversation`,
 * which replays messages through a session checking every request.
 */
export { DEFAULT_CHECKPOINT_KEEP_TOKENS, migrateAll, migrateDevSession, migratePMChat } from './migrate.js';
export { rollbackMigration } from './rollback.js';
export { formatMigrationReport, formatRollbackReport } from './format-report.js';
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
} from './types.js';
export { loadChat, saveChat } from '../compat/legacy-chat.js';
export type { LegacyChat, LegacyChatEntry, LegacyChatOptions } from '../compat/legacy-chat.js';

export { loadTranscript, parseTranscript } from '../integration/transcript.js';
export type { Transcript } from '../integration/transcript.js';
export { loadClaudeCodeLog, parseClaudeCodeLog } from '../integration/claude-code-log.js';
export type {
  ClaudeCodeLogOptions,
  ClaudeCodeLogStats,
  ClaudeCodeTranscript,
  SkippedLine,
} from '../integration/claude-code-log.js';
export { detectTranscriptFormat, readTranscriptFile } from '../integration/transcript-file.js';
export type { TranscriptFile, TranscriptFormat } from '../integration/transcript-file.js';
export { replayConversation } from '../integration/replay.js';
export type { ReplayCompaction, ReplayReport } from '../integration/replay.js';
