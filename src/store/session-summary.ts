/**
 * @internal What `list()` says of a session on disk without loading it: session.json for what it
 * is, checkpoint.json for what was archived, and the chat's figures: the snapshot's header (the
 * figures come before the messages in snapshots written since the store contract; older ones are
 * parsed whole) and the records the log holds past it. Nothing is written, set aside or repaired:
 * a file that does not read is reported by the error, and the session's next load deals with it.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { ChatFile, Checkpoint, Message, SessionRecord } from '../core/types.js';
import { replayLog } from './chat-log-format.js';
import type { SessionSummary } from './contract.js';
import { readBytesOrNull } from './durable-fs.js';
import { corruptFileError } from './corrupt.js';
import { DurableJsonFile, readPlainFile, verifyChecksum } from './durable-json-file.js';

/** How much of chat.json is read for its header. */
const HEADER_BYTES = 4096;
const HEADER = /^\{"\$crc32":"[0-9a-f]{8}",("snapshotSeq":[^[]*?),"messages":\[/;

/** The live figures of a chat: count, tokens and last seq of the messages above `snapshotSeq` too. */
export interface ChatFigures {
  live: number;
  liveTokens: number;
  lastSeq: number;
}

/** @internal Figures of the live messages held in memory. */
export function figuresOf(messages: readonly Message[], through: number): ChatFigures {
  let live = 0;
  let liveTokens = 0;
  for (const m of messages) {
    if (m.seq <= through) continue;
    live++;
    liveTokens += m.tokens;
  }
  return { live, liveTokens, lastSeq: messages[messages.length - 1]?.seq ?? -1 };
}

/** The snapshot's figures from its header, or null when it has none (an older snapshot). */
async function snapshotHeader(
  file: string,
): Promise<{ snapshotSeq: number; tokens: number; count: number } | null> {
  const handle = await open(file, 'r').catch(() => null);
  if (handle === null) return null;
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    const match = HEADER.exec(buffer.subarray(0, bytesRead).toString('utf8'));
    if (!match) return null;
    const head = JSON.parse(`{${match[1]}}`) as Partial<ChatFile & { liveTokens: number }>;
    if (typeof head.snapshotSeq !== 'number' || typeof head.totalMessages !== 'number') return null;
    if (typeof head.liveTokens !== 'number') return null;
    return { snapshotSeq: head.snapshotSeq, count: head.totalMessages, tokens: head.liveTokens };
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** Reads chat.json whole (older snapshots); null when absent. */
async function snapshotWhole(file: string): Promise<ChatFile | null> {
  const found = await readPlainFile(file);
  if (found.kind !== 'text') return null;
  const checked = verifyChecksum(found.text, found.bytes);
  if ('problem' in checked) throw corruptFileError(file, checked.problem, null);
  return JSON.parse(checked.json) as ChatFile;
}

/**
 * @internal The live figures of a chat on disk: snapshot + log, above the checkpoint's watermark.
 * Counts what the next load would hold, without checking it as a load does.
 */
export async function chatFiguresOnDisk(dir: string, through: number): Promise<ChatFigures> {
  const snapshotFile = path.join(dir, 'chat.json');
  // The log first, then the snapshot, as a reader must (read-journal.ts).
  const log = await readBytesOrNull(path.join(dir, 'chat.log'));
  let snapshotSeq = -1;
  let live = 0;
  let liveTokens = 0;
  let lastSeq = -1;
  const header = await snapshotHeader(snapshotFile);
  if (header !== null) {
    snapshotSeq = header.snapshotSeq;
    live = header.count;
    liveTokens = header.tokens;
    lastSeq = header.snapshotSeq;
    // A snapshot written before a commit's fold may still hold archived messages: rare, and
    // only until the next fold; the figures then count them once more than a load would.
  } else {
    const chat = await snapshotWhole(snapshotFile);
    if (chat !== null) {
      const figures = figuresOf(chat.messages, through);
      live = figures.live;
      liveTokens = figures.liveTokens;
      lastSeq = figures.lastSeq;
      snapshotSeq = typeof chat.snapshotSeq === 'number' ? chat.snapshotSeq : lastSeq;
    }
  }
  if (log !== null) {
    let last = Math.max(snapshotSeq, lastSeq);
    for (const m of replayLog(log).messages) {
      if (m.seq <= last) continue;
      last = m.seq;
      if (m.seq <= through) continue;
      live++;
      liveTokens += m.tokens;
    }
    lastSeq = last;
  }
  return { live, liveTokens, lastSeq: Math.max(lastSeq, through) };
}

/** @internal A summary from a record, a checkpoint and the chat's figures. */
export function summaryOf(
  record: SessionRecord,
  checkpoint: Checkpoint | null,
  chat: ChatFigures,
): SessionSummary {
  const info = checkpoint?.compactionInfo;
  const archived = info?.archivedMessages ?? 0;
  const archivedTokens = info?.archivedTokens ?? 0;
  return {
    id: record.id,
    key: record.key,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    messages: { total: archived + chat.live, live: chat.live, archived },
    tokens: { total: archivedTokens + chat.liveTokens, live: chat.liveTokens, archived: archivedTokens },
    checkpointVersion: checkpoint?.version ?? 0,
    lastCompactionAt: checkpoint?.updatedAt ?? null,
    lastRequestTokens: record.stats?.lastRequestTokens ?? 0,
    archivedThroughSeq: info?.archivedThroughSeq ?? -1,
    lastSeq: chat.lastSeq,
  };
}

/**
 * @internal The summary of the session in `dir`, read without loading it or changing anything.
 * @throws SessionError `SESSION_NOT_FOUND` without session.json; `CORRUPT_FILE` for a damaged file.
 */
export async function summarizeOnDisk(dir: string): Promise<SessionSummary | null> {
  const read = <T>(name: string) =>
    new DurableJsonFile<T>(path.join(dir, name), { readOnly: true, checksum: true }).read();
  const record = await read<SessionRecord>('session.json');
  if (record === null) return null;
  const checkpoint = await read<Checkpoint>('checkpoint.json');
  const through = checkpoint?.compactionInfo.archivedThroughSeq ?? -1;
  return summaryOf(record, checkpoint, await chatFiguresOnDisk(dir, through));
}
