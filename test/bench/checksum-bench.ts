/**
 * What the "$crc32" checksum of the store's JSON files costs: loading a session whose chat.json
 * holds 1,000 and 10,000 messages (about 1 and 10 MB), with the checksum verified and with the
 * same file without one, in the same run; and the CRC-32 itself, zlib's against ours in
 * JavaScript (the fallback on Node < 20.15).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { crc32Hex } from '../../src/core/crc32.js';
import type { Message } from '../../src/core/types.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import type { BenchTable } from './run.js';

const ID = 'feature--checksum--dev';
const RUNS = 9;
const TEXT = 'The quick brown fox reads src/store/journaled-chat-file.ts and proposes a smaller diff. ';

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content: `${TEXT.repeat(10)}#${seq}`,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1_000).toISOString(),
    tokens: 220,
  };
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** A session whose live messages are all in chat.json (folded), and the path of chat.json. */
async function folded(root: string, size: number): Promise<string> {
  const store = await JsonFileSessionStore.open({ root, durable: false, foldMinBytes: 1 });
  const dir = store.session(ID);
  await dir.create({
    schemaVersion: 1,
    id: ID,
    key: { type: 'feature', agentType: 'dev', featureId: 'checksum' },
    createdAt: 'x',
    updatedAt: 'x',
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  });
  await dir.load();
  await dir.appendMessages(Array.from({ length: size }, (_, seq) => message(seq)));
  await dir.close();
  await store.close();
  return path.join(root, '.dagent', 'sessions', ID, 'chat.json');
}

async function loadTime(root: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    const dir = store.session(ID);
    const started = performance.now();
    await dir.load();
    samples.push(performance.now() - started);
    await dir.close();
    await store.close();
  }
  return median(samples);
}

function crcTime(fn: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    fn();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

export async function run(): Promise<BenchTable[]> {
  const rows: (string | number)[][] = [];
  const crcRows: (string | number)[][] = [];
  for (const size of [1_000, 10_000]) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'dagent-checksum-bench-'));
    try {
      const chat = await folded(root, size);
      const withChecksum = await readFile(chat, 'utf8');
      const without = withChecksum.replace(/^\{"\$crc32":"[0-9a-f]{8}",/, '{');
      const checked = await loadTime(root);
      await writeFile(chat, without);
      const unchecked = await loadTime(root);
      const mb = (Buffer.byteLength(withChecksum) / 1e6).toFixed(1);
      rows.push([size, mb, checked.toFixed(1), unchecked.toFixed(1)]);
      const native = (zlib as { crc32?: (data: string) => number }).crc32;
      crcRows.push([
        mb,
        native ? crcTime(() => native(without)).toFixed(2) : 'n/a',
        crcTime(() => crc32Hex(Buffer.from(without, 'utf8'))).toFixed(2),
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  return [
    {
      title: 'Loading a session: chat.json with its "$crc32" verified, and without one',
      columns: ['live messages', 'chat.json MB', 'load ms, checksum verified', 'load ms, no checksum'],
      rows,
      notes: [`median of ${RUNS} read-only loads of the same session, page cache warm`],
    },
    {
      title: 'CRC-32 of chat.json: zlib.crc32 against the JavaScript table version',
      columns: ['MB', 'zlib ms', 'JavaScript ms'],
      rows: crcRows,
      notes: ['zlib.crc32 exists from Node 20.15; the store falls back to the JavaScript one before'],
    },
  ];
}
