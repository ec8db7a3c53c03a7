/**
 * `dagent-sessions/react`: the inspector's React components and their pure helpers, for a host's
 * renderer. Each takes plain data or the typed `SessionAPI` (the Electron preload's
 * `window.dagentSessions`, or `createSessionClient(url)`); none imports Node modules. React and
 * react-dom are optional peer dependencies of the package: install them to use this entry.
 *
 * The page server (`loadInspectorAssets`, `createInspectorHandler`, `serveInspector`) is Node
 * code: it is exported from `dagent-sessions/http`, beside `serveSessions`.
 */
export { SessionInspector } from './session-inspector.js';
export type { SessionInspectorProps } from './session-inspector.js';
export { SessionList } from './session-list.js';
export type { SessionListProps } from './session-list.js';
export { SessionFilters } from './session-filters.js';
export type { SessionFiltersProps } from './session-filters.js';
export { SessionStatus, StateBadge } from './session-status.js';
export type { SessionStatusProps } from './session-status.js';
export { TokenGauge } from './token-gauge.js';
export type { TokenGaugeProps } from './token-gauge.js';
export { CheckpointViewer } from './checkpoint-viewer.js';
export type { CheckpointViewerProps } from './checkpoint-viewer.js';
export { CompactionHistory } from './compaction-history.js';
export type { CompactionHistoryProps } from './compaction-history.js';
export { HistoryView, messageText } from './history-view.js';
export type { HistoryViewProps } from './history-view.js';
export { createHistoryCache, HISTORY_PAGE } from './history-cache.js';
export type { HistoryCache } from './history-cache.js';
export { createMatcher, NO_SEARCH, searchActive } from './history-search.js';
export type { HistorySearch } from './history-search.js';
export { CheckpointDiffView } from './checkpoint-diff-view.js';
export type { CheckpointDiffViewProps } from './checkpoint-diff-view.js';
export { diffCheckpoints } from './checkpoint-diff.js';
export type { CheckpointDiffSection } from './checkpoint-diff.js';
export { TokenTimeline } from './token-timeline-view.js';
export type { TokenTimelineProps } from './token-timeline-view.js';
export { downsample, tokenTimeline } from './token-timeline.js';
export type { TimelineMark, TimelinePoint } from './token-timeline.js';
export { CompactionProgress } from './compaction-progress.js';
export type { CompactionProgressProps } from './compaction-progress.js';
export { SessionActions } from './session-actions.js';
export type { SessionAction, SessionActionsProps } from './session-actions.js';
export { ConfirmDialog } from './confirm-dialog.js';
export type { ConfirmDialogProps } from './confirm-dialog.js';
export { useSessionInspector } from './use-session-inspector.js';
export type { CompactionInProgress, SessionDetails, SessionInspectorModel } from './use-session-inspector.js';
export { INSPECTOR_CSS } from './styles.js';

export {
  FEATURE_SESSIONS,
  MACHINE_STATES,
  NO_FILTERS,
  filterOptions,
  filterSessions,
  sessionLabel,
} from './filters.js';
export type { SessionFilterValues } from './filters.js';
export {
  WARNING_RATIO,
  formatDuration,
  formatTime,
  formatTokens,
  gaugeLevel,
  gaugePercent,
} from './gauge.js';
export type { GaugeLevel } from './gauge.js';
export {
  cutPoints,
  historyWithCuts,
  mergeRecords,
  recordFromEvent,
  recordsFromCheckpoint,
} from './compactions.js';
export type { CompactionRecord, CutPoint, HistoryItem } from './compactions.js';
