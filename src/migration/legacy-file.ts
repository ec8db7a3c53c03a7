/**
 * @internal Where legacy DAGent files live, how they are found and read: size guard, sha256 of
 * the exact bytes, and a JSON parse whose failure is a report, not an exception.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile } from 'node:fs/promises';
import { describeError } from '../core/errors.js';
import type { CheckpointSummary, MessageInput, SessionKey } from '../core/types.js';
import { isErrno } from '../store/durable-fs.js';
import type { EntryProblem, LegacyKind, LegacyLayout } from './types.js';

/** @internal The default largest legacy file read: 256 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** @internal One legacy file to migrate (of a DAGent session: its `session_<id>.json`). */
export interface LegacyFileRef {
  kind: LegacyKind;
  layout: LegacyLayout;
  /** The feature directory's name (the feature of every session made from it). */
  featureId: string;
  /** The node directory's name, for a dev session or a node chat. */
  taskId?: string;
  /** Absolute path. */
  absolute: string;
  /** Relative to the root, POSIX separators. */
  relative: string;
}

/** @internal A legacy file parsed and validated: what to append, and what is wrong with it. */
export interface ParsedLegacyFile {
  /** Entries in the file. */
  total: number;
  /** The valid entries as messages, with their index in the file. */
  messages: { index: number; input: MessageInput }[];
  /** One per invalid field of an entry. */
  problems: EntryProblem[];
  /** Session-level facts to keep in the session's context (`legacySession`), or null. */
  context: Record<string, unknown> | null;
  /** A DAGent session's own context, agent description and checkpoint, to start its session with. */
  session?: {
    context: Record<string, unknown> | null;
    agentDescription: Record<string, unknown> | null;
    checkpoint: CheckpointSummary | null;
  };
  /** The session key a DAGent session names (the other kinds derive theirs from the paths). */
  key?: SessionKey;
  warnings: string[];
}

/** @internal A file-level verdict: the file cannot be migrated at all. */
export type ParseOutcome = { ok: true; parsed: ParsedLegacyFile } | { ok: false; reason: string };

/** @internal The bytes of a legacy file, or why they cannot be used. */
export type ReadOutcome =
  { ok: true; bytes: Buffer; sha256: string; value: unknown } | { ok: false; reason: string };

/** @internal sha256 (hex) of bytes. */
export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** @internal Reads and parses a legacy file; every failure is a reason for the report. */
export async function readLegacyFile(ref: LegacyFileRef, maxBytes: number): Promise<ReadOutcome> {
  let size: number;
  try {
    const info = await lstat(ref.absolute);
    if (!info.isFile())
      return {
        ok: false,
        reason: `${ref.relative} is not a regular file (a symbolic link is never followed)`,
      };
    size = info.size;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { ok: false, reason: `no legacy file at ${ref.relative}` };
    return { ok: false, reason: `cannot read ${ref.relative}: ${describeError(error)}` };
  }
  if (size > maxBytes) {
    return {
      ok: false,
      reason:
        `${ref.relative} is ${formatBytes(size)}, ` +
        `over the ${formatBytes(maxBytes)} limit of a legacy file; split it or raise maxFileBytes`,
    };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(ref.absolute);
  } catch (error) {
    return { ok: false, reason: `cannot read ${ref.relative}: ${describeError(error)}` };
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') return { ok: false, reason: `${ref.relative} is empty; expected a JSON object` };
  try {
    return { ok: true, bytes, sha256: sha256Of(bytes), value: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      reason:
        `${ref.relative} is not valid JSON (${describeError(error)}); ` +
        `repair it, or move it away to leave it unmigrated`,
    };
  }
}

/** @internal 1.5 MiB, 300 B... */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
