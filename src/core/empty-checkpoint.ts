/**
 * The empty checkpoint and its parts: what a session's checkpoint is before anything was folded
 * into it, in one place for the store (a check recorded before any checkpoint), clears and resets,
 * hand edits and the initial checkpoint a caller gives `createSession`.
 */
import type { SessionLedger } from './ledger-types.js';
import { CHECKPOINT_SCHEMA_VERSION, type Checkpoint, type CheckpointSummary } from './types.js';

/** @internal A ledger that has recorded nothing. */
export function emptyLedger(): SessionLedger {
  return {
    files: [],
    commands: [],
    problems: [],
    requests: [],
    names: [],
    status: null,
    throughSeq: -1,
    iterations: 0,
  };
}

/** @internal A summary with every section empty (a fresh object each call). */
export function emptySummary(): CheckpointSummary {
  return { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
}

/**
 * @internal Version 0 of a session's checkpoint: nothing known, nothing archived, made by
 * `compactor` (`none` for the checkpoint a session has before its first commit).
 * @example emptyCheckpoint('2026-01-01T00:00:00.000Z').summary.pending // []
 */
export function emptyCheckpoint(now: string, compactor = 'none'): Checkpoint {
  return {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    version: 0,
    createdAt: now,
    updatedAt: now,
    summary: emptySummary(),
    ledger: emptyLedger(),
    compactionInfo: {
      compactor,
      messagesCompacted: 0,
      archivedThroughSeq: -1,
      segment: 0,
      tokensBefore: 0,
      tokensAfter: 0,
      durationMs: 0,
      chunks: 0,
      escalation: 0,
      archivedMessages: 0,
      archivedTokens: 0,
    },
    tokens: 0,
  };
}
