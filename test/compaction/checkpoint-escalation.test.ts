/**
 * `compactionInfo.escalation` is the step of the no-progress guard that got a compaction under the
 * threshold: 0, 1 or 2 ({@link CompactionEscalation}), never any other number. The one rule for
 * what checkpoint.json may hold (`checkpointProblems`) says so: a load refuses another value as
 * `CORRUPT_FILE`, naming the file and the field, and every checkpoint written so far (the fixtures,
 * a compaction of each step, a clear) still loads.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointProblems } from '../../src/compaction/checkpoint-schema.js';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { summariseCompaction } from '../../src/compaction/run-compaction.js';
import { isSessionError } from '../../src/core/errors.js';
import type { Checkpoint, CompactionEscalation, Limits, Message } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/store/v1-session/checkpoint.json', import.meta.url));
const KEY = { type: 'feature', agentType: 'dev', featureId: 'escalation' } as const;

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of open.splice(0)) await item.close();
});

async function runtimeAt(root: string): Promise<SessionRuntime> {
  const runtime = await createSessionRuntime({ root });
  open.push(runtime);
  return runtime;
}

/** A session with one compaction, and the path of its checkpoint.json. */
async function compacted(root: string): Promise<{ id: string; file: string }> {
  const runtime = await runtimeAt(root);
  const { id } = await runtime.createSession(KEY);
  for (let i = 0; i < 4; i++)
    await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(40) });
  expect((await runtime.compact(id, { keepRecentTokens: 0 })).kind).toBe('compacted');
  await runtime.close();
  open.splice(open.indexOf(runtime), 1);
  return { id, file: path.join(root, '.dagent', 'sessions', id, 'checkpoint.json') };
}

describe('compactionInfo.escalation', () => {
  it('is 0, 1 or 2 for checkpointProblems; any other value is a problem naming the field', async () => {
    const base = JSON.parse(await readFile(FIXTURE, 'utf8')) as Checkpoint;
    const steps: CompactionEscalation[] = [0, 1, 2];
    for (const escalation of steps)
      expect(checkpointProblems({ ...base, compactionInfo: { ...base.compactionInfo, escalation } })).toEqual(
        [],
      );
    for (const escalation of [3, 1.5, -1, '1', null, undefined]) {
      const problems = checkpointProblems({
        ...base,
        compactionInfo: { ...base.compactionInfo, escalation },
      });
      expect({ escalation, problems }).toEqual({
        escalation,
        problems: [expect.stringMatching(/^"compactionInfo\.escalation" must be 0, 1 or 2 .*got /)],
      });
    }
  });

  it('a stored value outside 0 | 1 | 2 is CORRUPT_FILE naming checkpoint.json and the field', async () => {
    const root = await tempRoot();
    const { id, file } = await compacted(root);
    const { $crc32, ...stored } = JSON.parse(await readFile(file, 'utf8')) as Checkpoint & {
      $crc32?: string;
    };
    expect($crc32).toEqual(expect.any(String));
    expect([0, 1, 2]).toContain(stored.compactionInfo.escalation);
    // Edited by hand, so without its checksum (as the message of a checksum mismatch says to).
    await writeFile(
      file,
      JSON.stringify({ ...stored, compactionInfo: { ...stored.compactionInfo, escalation: 7 } }),
    );

    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    open.push(store);
    const error = await store.load(id).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isSessionError(error, 'CORRUPT_FILE')).toBe(true);
    expect((error as Error).message).toContain('checkpoint.json');
    expect((error as Error).message).toContain('"compactionInfo.escalation" must be 0, 1 or 2');
  });

  it('every checkpoint written so far still loads: the v1 fixture, a compaction, a clear', async () => {
    expect(checkpointProblems(JSON.parse(await readFile(FIXTURE, 'utf8')))).toEqual([]);
    const root = await tempRoot();
    const { id } = await compacted(root);
    const runtime = await runtimeAt(root);
    expect((await runtime.getCheckpoint(id))?.compactionInfo.escalation).toBe(0);
    await runtime.addMessage(id, { role: 'user', content: 'one more' });
    await runtime.clearMessages(id);
    for (const version of await runtime.getCheckpointVersions(id)) {
      const checkpoint = await runtime.getCheckpoint(id, { version });
      expect({ version, problems: checkpointProblems(checkpoint) }).toEqual({ version, problems: [] });
    }
  });

  it('says which step was taken: step 2 without re-compressing the checkpoint is "kept no tail"', async () => {
    // 20 messages of 400 tokens; 4,500 of reply room against a threshold of 9,000: the tail asked
    // for (20,000) keeps every message, a quarter of it (5,000) still passes the threshold, none fits.
    const messages: Message[] = Array.from({ length: 20 }, (_, seq) => ({
      id: `m-${seq}`,
      seq,
      role: seq % 2 ? 'assistant' : 'user',
      content: `message ${seq}`,
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      tokens: 400,
    }));
    const limits: Limits = {
      maxTokens: 10_000,
      compactAt: 0.9,
      keepRecentTokens: 20_000,
      replyReserveTokens: 4_500,
      checkpointTokens: 2_500,
    };
    const { output } = await summariseCompaction(
      {
        dir: { messages, checkpoint: null, commit: () => Promise.resolve() },
        compactor: new OfflineCompactor(),
        estimator: createTokenEstimator({ mode: 'approximate' }),
        now: () => new Date('2026-01-01T00:01:00.000Z'),
        elapsed: () => 0,
      },
      {
        sessionId: 'feature--escalation--dev',
        watermarkSeq: 19,
        limits,
        keepRecentTokens: 20_000,
        tailRequested: true,
        fixedTokens: 0,
        correction: 1,
        attempt: 1,
        trigger: 'manual',
      },
      new AbortController().signal,
    );
    expect(output).toMatchObject({
      kind: 'compacted',
      escalation: 2,
      messagesCompacted: 20,
      reason: 'kept no tail to get under the threshold',
      underThreshold: true,
    });
  });
});
