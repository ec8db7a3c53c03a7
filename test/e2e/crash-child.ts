/**
 * The process that test/e2e/crash.test.ts kills. It opens a JsonFileSessionStore on `ROOT`,
 * appends messages for ever (single, batched, concurrent, some ~50 KB), now and then commits a
 * compaction built by hand, and folds often (small `foldMinBytes`). It reports on stdout, one
 * line each, with write(2) on the stdout pipe before the work it announces (see say()):
 *
 * - `ready <nextSeq>` once the store is open and the session loaded;
 * - `begin <lastSeq>` before an append is issued (nothing above it can be on disk);
 * - `ack <firstSeq> <lastSeq>` once an append has resolved (those messages are durable);
 * - `compact <segment> <lastSeq>` once a compaction has committed.
 *
 * With CRASH_FAULTS=1 it runs under the fault shim (crash-faults.test.ts): appends go one at a
 * time, and one that fails with nothing written is retried; after one whose outcome is unknown,
 * the session is reopened and what its log holds is kept.
 *
 * Run: `node --import tsx test/e2e/crash-child.ts` with ROOT and SEED in the environment.
 */
import { pathToFileURL } from 'node:url';
import type {
  ArchiveSegment,
  Checkpoint,
  ContentBlock,
  Message,
  SessionRecord,
} from '../../src/core/types.js';
import { isSessionError } from '../../src/core/errors.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { say } from './say.js';

/** The session every crash run works on. */
export const CRASH_SESSION_ID = 'feature--crash--dev';
/** Small, so that folds happen every few appends. */
export const CRASH_FOLD_MIN_BYTES = 4096;

/** A small deterministic generator (mulberry32). */
export function randomOf(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'alpha',
  'ünïcode',
  '🚀',
  'שלום',
  'tool',
  'diff',
  'ok',
  '\t',
  'line\nbreak',
  '"quoted"',
  'naïve',
  '数据',
];

/**
 * The message of a given seq: what the parent expects to read back, byte for byte. Every 13th is
 * about 50 KB; the others vary in shape (string, every block type, metadata).
 */
export function messageFor(seq: number): Message {
  const random = randomOf(seq * 7919 + 17);
  const text = (words: number) =>
    Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ');
  let content: string | ContentBlock[];
  if (seq % 13 === 5) {
    content = `large ${seq}: ${text(9_000)}`.slice(0, 50_000);
  } else {
    switch (seq % 4) {
      case 0:
        content = `message ${seq}: ${text(5 + Math.floor(random() * 60))}`;
        break;
      case 1:
        content = [
          { type: 'thinking', thinking: text(10), signature: `sig-${seq}` },
          { type: 'text', text: text(8) },
          {
            type: 'tool_use',
            id: `toolu_${seq}`,
            name: 'Read',
            input: { path: `src/${seq}.ts`, n: seq, deep: { flag: seq % 2 === 0, none: null } },
          },
        ];
        break;
      case 2:
        content = [
          {
            type: 'tool_result',
            tool_use_id: `toolu_${seq - 1}`,
            content: [{ type: 'text', text: text(30) }],
            is_error: seq % 3 === 0,
          },
        ];
        break;
      default:
        content = [{ type: 'text', text: text(20) }];
    }
  }
  return {
    id: `msg-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1_000).toISOString(),
    tokens: 10 + (seq % 50),
    ...(seq % 5 === 0 ? { metadata: { seq, tag: text(2) } } : {}),
  };
}

/** session.json of the crash session. */
export function crashRecord(): SessionRecord {
  return {
    schemaVersion: 1,
    id: CRASH_SESSION_ID,
    key: { type: 'feature', agentType: 'dev', featureId: 'crash' },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  };
}

async function main(): Promise<void> {
  const root = process.env.ROOT;
  if (!root) throw new Error('ROOT is not set');
  const random = randomOf(Number(process.env.SEED ?? 1));
  const store = await JsonFileSessionStore.open({
    root,
    foldMinBytes: CRASH_FOLD_MIN_BYTES,
    description: 'crash-child',
  });
  const faulty = process.env.CRASH_FAULTS === '1';
  let dir = store.session(CRASH_SESSION_ID);
  if (!(await dir.exists())) await dir.create(crashRecord());
  const loaded = await dir.load();
  let previous: Checkpoint | null = loaded.checkpoint;
  let nextSeq = (loaded.messages.at(-1)?.seq ?? loaded.archivedThroughSeq) + 1;
  say(`ready ${nextSeq}`);

  const append = async (count: number): Promise<void> => {
    const batch = Array.from({ length: count }, () => messageFor(nextSeq++));
    say(`begin ${batch.at(-1)!.seq}`);
    for (let pending = batch; pending.length > 0;) {
      try {
        await dir.appendMessages(pending);
        break;
      } catch (error) {
        if (!faulty || !isSessionError(error, 'IO_ERROR')) throw error;
        if (error.details.outcome === 'not-written') continue;
        // Unknown outcome: reopen, and append only what the log does not hold.
        await dir.close();
        dir = store.session(CRASH_SESSION_ID);
        const reloaded = await dir.load();
        const last = reloaded.messages.at(-1)?.seq ?? reloaded.archivedThroughSeq;
        pending = pending.filter((m) => m.seq > last);
      }
    }
    say(`ack ${batch[0]!.seq} ${batch.at(-1)!.seq}`);
  };

  for (;;) {
    const r = random();
    if (r < 0.4) {
      await append(1);
    } else if (r < 0.65) {
      await append(2 + Math.floor(random() * 7));
    } else if (r < 0.88 && !faulty) {
      // Concurrent appends, not awaited one by one: group commit under a crash.
      const calls = Array.from({ length: 2 + Math.floor(random() * 5) }, () =>
        append(1 + Math.floor(random() * 2)),
      );
      await Promise.all(calls);
    } else if (dir.messages.length >= 6) {
      const live = dir.messages;
      const archived = live.slice(0, Math.floor(live.length / 2));
      const segmentNumber = (previous?.compactionInfo.segment ?? 0) + 1;
      const version = (previous?.version ?? 0) + 1;
      const now = new Date().toISOString();
      const lastSeq = archived.at(-1)!.seq;
      const segment: ArchiveSegment = {
        segment: segmentNumber,
        checkpointVersion: version,
        createdAt: now,
        firstSeq: archived[0]!.seq,
        lastSeq,
        messages: archived,
      };
      const archivedMessages = (previous?.compactionInfo.archivedMessages ?? 0) + archived.length;
      const checkpoint: Checkpoint = {
        version,
        createdAt: previous?.createdAt ?? now,
        updatedAt: now,
        summary: {
          completed: [`compaction ${version}`],
          inProgress: [],
          pending: [],
          decisions: [],
          blockers: [],
        },
        compactionInfo: {
          compactor: 'crash-child',
          messagesCompacted: archived.length,
          archivedThroughSeq: lastSeq,
          segment: segmentNumber,
          tokensBefore: 0,
          tokensAfter: 0,
          durationMs: 0,
          chunks: 1,
          escalation: 0,
          archivedMessages,
          archivedTokens: 0,
        },
        tokens: 10,
      };
      // Appends keep running while the compaction commits, as in the session actor.
      const during = random() < 0.5 && !faulty ? append(1 + Math.floor(random() * 3)) : Promise.resolve();
      await dir.commitCompaction(segment, checkpoint);
      previous = checkpoint;
      say(`compact ${segmentNumber} ${lastSeq}`);
      await during;
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `crash-child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
