/**
 * Prompt caching through `send`, with the real SDK against our Messages API server, which records
 * every `cache_control` breakpoint with the exact bytes of the prefix it names and simulates the
 * cache in `usage`. Between two compactions the breakpoints stay put (each turn's prefixes are
 * the previous turn's, byte for byte, and are read from the cache); a compaction moves them.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { tempRoot } from '../helpers/temp-root.js';
import {
  startMessagesApiServer,
  type MessagesApiServer,
  type RecordedRequest,
} from '../support/messages-api-server.js';

const KEY: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'cache',
  taskId: 't1',
  taskState: 'in_dev',
};
const MODEL = 'claude-test-1';
let server: MessagesApiServer;
let client: Anthropic;

beforeAll(async () => {
  // The API caches prefixes of 1,024 tokens and more (most models): a session's system prompt passes that.
  server = await startMessagesApiServer({ minCacheableTokens: 1024 });
  client = new Anthropic({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
});
afterAll(async () => server.close());

const DESCRIPTION = {
  role: 'Developer of the session store',
  instructions: Array.from(
    { length: 60 },
    (_, i) => `Rule ${i + 1}: keep every acknowledged message durable, and say which file changed and why.`,
  ).join('\n'),
  tools: ['Bash', 'Read', 'Edit'],
};

async function session(): Promise<{ runtime: SessionRuntime; id: string }> {
  const runtime = await createSessionRuntime({
    root: await tempRoot(),
    client,
    model: MODEL,
    compactor: new ScriptedCompactor(),
  });
  const { id } = await runtime.createSession(KEY, {
    agentDescription: DESCRIPTION,
    context: { featureName: 'Prompt caching', featureGoal: 'Reuse the prefix between compactions' },
  });
  return { runtime, id };
}

/** The request a `send` made (the last /v1/messages request since `from`). */
function lastTurn(from: number): RecordedRequest {
  const turns = server.requests.slice(from).filter((r) => r.path === '/v1/messages');
  const turn = turns[turns.length - 1];
  if (turn === undefined) throw new Error('no /v1/messages request was made');
  return turn;
}

describe('prompt caching: breakpoints on the stable prefix', () => {
  it('stay put between compactions (same bytes, read from the cache) and move after one', async () => {
    const { runtime, id } = await session();
    const turns: RecordedRequest[] = [];
    const usages: Array<{ cacheReadInputTokens: number; cacheCreationInputTokens: number }> = [];
    const say = async (text: string) => {
      const from = server.requests.length;
      const result = await runtime.send(id, text);
      turns.push(lastTurn(from));
      usages.push(result.usage);
    };
    for (const text of [
      'Where is the lock taken?',
      'And released?',
      'Which test covers it?',
      'Add one more.',
    ])
      await say(text);

    for (const turn of turns) {
      expect(turn.breakpoints.length).toBeGreaterThan(0);
      expect(turn.breakpoints.length).toBeLessThanOrEqual(4);
      expect(turn.breakpoints[0]?.at).toBe('system[0]');
    }
    // Turn 1: the system prompt and the first message are written to the cache, nothing read.
    expect(turns[0]!.breakpoints.map((b) => b.at)).toEqual(['system[0]', 'messages[0].content[0]']);
    expect(usages[0]).toMatchObject({ cacheReadInputTokens: 0 });
    expect(usages[0]!.cacheCreationInputTokens).toBe(turns[0]!.breakpoints[1]!.tokens);
    for (let k = 1; k < turns.length; k++) {
      const previous = turns[k - 1]!.breakpoints;
      const current = turns[k]!.breakpoints;
      // The stable part of the system prompt: the same bytes every turn.
      expect(current[0]!.prefix).toBe(previous[0]!.prefix);
      // The end of the previous turn: exactly the prefix the previous request cached at its end...
      expect(current.map((b) => b.at)).toEqual([
        'system[0]',
        `messages[${2 * k - 2}].content[0]`,
        `messages[${2 * k}].content[0]`,
      ]);
      expect(current[1]!.prefix).toBe(previous[previous.length - 1]!.prefix);
      // ...so it is read from the cache: everything up to the previous turn's end.
      expect(usages[k]!.cacheReadInputTokens).toBe(previous[previous.length - 1]!.tokens);
      expect(usages[k]!.cacheCreationInputTokens).toBe(current[2]!.tokens - current[1]!.tokens);
    }

    // A compaction writes a new checkpoint into the system prompt: every breakpoint moves.
    await runtime.compact(id, { keepRecentTokens: 0 });
    await say('What did we decide?');
    await say('And next?');
    const [beforeCompaction, afterCompaction, next] = turns.slice(-3);
    expect(afterCompaction!.breakpoints[0]!.prefix).not.toBe(beforeCompaction!.breakpoints[0]!.prefix);
    expect(afterCompaction!.breakpoints[0]!.prefix).toContain('## Checkpoint');
    const old = new Set(beforeCompaction!.breakpoints.map((b) => b.hash));
    expect(afterCompaction!.breakpoints.filter((b) => old.has(b.hash))).toEqual([]);
    expect(usages[usages.length - 2]).toMatchObject({ cacheReadInputTokens: 0 });
    // And stay put again until the next one.
    expect(next!.breakpoints[0]!.prefix).toBe(afterCompaction!.breakpoints[0]!.prefix);
    expect(usages[usages.length - 1]!.cacheReadInputTokens).toBe(
      afterCompaction!.breakpoints[afterCompaction!.breakpoints.length - 1]!.tokens,
    );
    await runtime.close();
  });

  it('learns the correction from the whole input, cached tokens included', async () => {
    const { runtime, id } = await session();
    for (const text of ['First question about the store.', 'Second question about the store.']) {
      const from = server.requests.length;
      const result = await runtime.send(id, text);
      const sent = lastTurn(from);
      expect(
        result.usage.inputTokens + result.usage.cacheReadInputTokens + result.usage.cacheCreationInputTokens,
      ).toBe(sent.inputTokens);
    }
    // Both turns were learned from (their uncached part alone is 0 tokens: nothing to learn from),
    // and the server counts with another tokenizer than ours, but within some percent.
    const state = runtime.calibration.state(MODEL);
    expect(state.samples).toBe(2);
    expect(state.factor).toBeGreaterThan(0.8);
    expect(state.factor).toBeLessThan(1.25);
    await runtime.close();
  });

  it('cache: false sends no breakpoint', async () => {
    const { runtime, id } = await session();
    const from = server.requests.length;
    await runtime.send(id, 'No caching, please.', { cache: false });
    expect(lastTurn(from).breakpoints).toEqual([]);
    const preview = await runtime.previewRequest(id, 'x', { format: 'messages', cache: false });
    expect(JSON.stringify([preview.system, preview.messages])).not.toContain('cache_control');
    await runtime.close();
  });
});
