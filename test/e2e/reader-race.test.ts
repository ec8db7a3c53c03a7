/**
 * A read-only reader racing a writer in another process: the writer (fold-writer-child.ts)
 * appends and folds every few appends, so that chat.json is replaced and chat.log emptied all the
 * time; the reader reads again and again, and each read must hold every record the writer had
 * acknowledged (on its stdout pipe) before the read began, in order and verbatim.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { JournaledChatFile } from '../../src/store/journaled-chat-file.js';
import { tempRoot } from '../helpers/temp-root.js';
import { raceMessage } from './fold-writer-child.js';

const CHILD = fileURLToPath(new URL('./fold-writer-child.ts', import.meta.url));
const READS = Number(process.env.RACE_READS ?? 400);
/** The reads go on until the writer folded this often meanwhile (however slow a loaded machine makes it). */
const FOLDS = 150;

describe('a read-only reader while a writer appends and folds in another process', () => {
  it('sees every record acknowledged before the read began', async () => {
    const dir = await tempRoot('dagent-race-');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, DIR: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let acked = -1;
    let folds = 0;
    let stderr = '';
    let wake: (() => void) | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, seq] = line.split(' ');
      if (kind === 'ack') acked = Number(seq);
      else folds++;
      wake?.();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const figures = { reads: 0, checked: 0, short: 0, foldsDuringReads: 0 };
    try {
      while (acked < 50) {
        await new Promise<void>((resolve) => (wake = resolve));
        if (child.exitCode !== null) throw new Error(`the writer died:\n${stderr}`);
      }
      const foldsBefore = folds;
      while (figures.reads < READS || folds - foldsBefore < FOLDS) {
        if (child.exitCode !== null) throw new Error(`the writer died:\n${stderr}`);
        const before = acked; // every seq up to here was acknowledged before this read began
        const reader = new JournaledChatFile(path.join(dir, 'chat.json'), path.join(dir, 'chat.log'), {
          readOnly: true,
        });
        const chat = await reader.read();
        await reader.close();
        const messages = chat?.messages ?? [];
        figures.reads++;
        figures.checked += Math.max(0, before + 1 - (messages[0]?.seq ?? 0));
        // The writer drops old messages at each fold: what a read holds starts anywhere, but runs
        // without a gap to at least the last acknowledged one.
        const first = messages[0]?.seq ?? 0;
        const complete =
          messages.length > 0 &&
          messages.at(-1)!.seq >= before &&
          messages.every((m, i) => m.seq === first + i && isDeepStrictEqual(m, raceMessage(m.seq)));
        if (!complete) figures.short++;
      }
      figures.foldsDuringReads = folds - foldsBefore;
    } finally {
      child.stdin.end();
      await exited;
      console.log(`[reader-race] ${JSON.stringify(figures)}`);
    }
    expect(stderr).toBe('');
    expect(figures.short, 'reads that missed acknowledged records').toBe(0);
  }, 120_000);
});
