/**
 * Counting off the append's path, exactly: an unkeyed text append is acknowledged once durable,
 * with its upper bound if its count is not known yet; reads, figures and the files then hold the
 * exact count, and a count lost to a crash is taken again at the next load.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { textTokenBound } from '../../src/core/token-bound.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { replayLog } from '../../src/store/chat-log-format.js';
import { JsonFileSessionStore } from '../../src/store/session-store.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'counts' };
const estimator = createTokenEstimator();
const texts = Array.from(
  { length: 30 },
  (_, i) => `step ${i}: ${'the tests pass again; '.repeat(40 + i * 30)}`,
);
const exact = (content: string) => estimator.estimateMessage({ role: 'user', content });

async function logOf(root: string, id: string) {
  return replayLog(await readFile(path.join(root, '.dagent', 'sessions', id, 'chat.log')));
}

describe('appends counted off their path', () => {
  it('reads, figures and files hold exact counts, whatever the append returned', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 1_000_000 } });
    const { id } = await runtime.createSession(KEY);
    const returned = await Promise.all(
      texts.map((content) => runtime.addMessage(id, { role: 'user', content })),
    );
    for (const [i, m] of returned.entries()) {
      // Exact, or the bound when acknowledged before its count: never below the exact count.
      expect([exact(texts[i]!), textTokenBound(texts[i]!)]).toContain(m.tokens);
    }
    const history = await runtime.getHistory(id);
    expect(history.map((m) => m.tokens)).toEqual(texts.map(exact));
    const total = texts.map(exact).reduce((a, b) => a + b, 0);
    expect((await runtime.estimateSize(id)).breakdown.messages).toBe(total);
    await runtime.close();

    // On disk (snapshot and log): each count exact, in the message or in a count record after it.
    const store = await JsonFileSessionStore.open({ root, readOnly: true });
    const head = await store.load(id);
    expect(head.messages.map((m) => m.tokens)).toEqual(texts.map(exact));
    expect(head.uncounted).toEqual([]);
    await store.close();
  });

  it('counts again, at load, a message whose count a crash lost, and writes its count', async () => {
    const root = await tempRoot();
    const first = await createSessionRuntime({ root });
    const { id } = await first.createSession(KEY);
    await first.close();
    // What a crash right after the acknowledgement leaves: the message, without its count.
    const store = await JsonFileSessionStore.open({ root });
    const content = texts[5]!;
    const bound = textTokenBound(content)!;
    const message = { id: 'msg_1', role: 'user' as const, content, timestamp: new Date().toISOString() };
    await store.append(id, [{ ...message, seq: 0, tokens: bound }], { uncounted: [0] });
    await store.close();
    expect((await logOf(root, id)).uncounted).toEqual(new Set([0]));

    const runtime = await createSessionRuntime({ root });
    expect((await runtime.getHistory(id)).map((m) => m.tokens)).toEqual([exact(content)]);
    expect((await runtime.estimateSize(id)).breakdown.messages).toBe(exact(content));
    await runtime.close();
    const log = await logOf(root, id);
    expect(log.uncounted.size).toBe(0);
    expect([...log.counts]).toEqual([[0, exact(content)]]);
  });

  it('counts a keyed append before writing it: a retry returns the very message the first call did', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(KEY);
    const input = { role: 'user' as const, content: texts[20]!, idempotencyKey: 'k' };
    const first = await runtime.addMessage(id, input);
    expect(first.tokens).toBe(exact(texts[20]!));
    expect(await runtime.addMessage(id, input)).toEqual(first);
    await runtime.close();
  });
});
