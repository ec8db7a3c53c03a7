/**
 * Replays every transcript of ../shared/transcripts through a session with a 20,000-token limit:
 * no message lost, no request over the limit.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { replayConversation } from '../../src/integration/replay.js';
import { loadTranscript } from '../../src/integration/transcript.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/transcripts');
const present = existsSync(DIR);
const files = present
  ? readdirSync(DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

describe.skipIf(!present)(
  `replay of ../shared/transcripts with a 20,000-token ` +
    `limit${present ? '' : ' (skipped: ../shared/transcripts is absent beside this checkout)'}`,
  () => {
    it.each(files)('%s: every message kept, no request over the limit', async (file) => {
      const transcript = await loadTranscript(path.join(DIR, file));
      const root = await tempRoot();
      const runtime = await createSessionRuntime({ root, limits: { maxTokens: 20_000 } });
      try {
        const session = await runtime.createSession({
          type: 'task',
          agentType: 'dev',
          featureId: 'replay',
          taskId: file.replace(/\.json$/, '').replace(/--+/g, '-'),
          taskState: 'in_dev',
        });
        const report = await replayConversation(runtime, session.id, transcript.messages);
        console.log(
          `${file}: ${report.messages} messages, ${report.compactions.length} compactions, ` +
            `largest request ${report.largestRequest}/${report.limit}, ` +
            `over limit ${report.requestsOverLimit}, ` +
            `history intact ${report.historyIntact}, ${(report.totalMs / 1000).toFixed(1)} s`,
        );
        expect(report.historyIntact).toBe(true);
        expect(report.historyMessages).toBe(transcript.messages.length);
        expect(report.requestsOverLimit).toBe(0);
        expect(report.largestRequest).toBeLessThanOrEqual(20_000);
        if (report.messages > 100) expect(report.compactions.length).toBeGreaterThan(0);
      } finally {
        await runtime.close();
      }
    });
  },
);
