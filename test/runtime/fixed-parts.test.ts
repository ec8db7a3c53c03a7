/**
 * A session's agent description and context go into every request and no compaction shrinks them:
 * the calls that set them refuse, before writing anything, a value that would leave no room for
 * a conversation (src/core/fixed-parts-room.ts), and one past `maxMessageBytes` before counting
 * it. Before this, createSession, setContext, setAgentDescription and the agent profiles took a
 * 60,000-token context in a 20,000-token window: every append and every buildRequest then started
 * a compaction (two model calls with AnthropicCompactor) that could not help, and every request
 * failed; a 64 MB context held the event loop for 8.5 s while it was counted.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { fixedPartsRoom } from '../../src/core/fixed-parts-room.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { settle } from '../helpers/settle.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f1' };
const LIMITS = { maxTokens: 20_000 };
// 20,000 tokens: threshold 18,000, reply 1,000, tail 4,000.
const ROOM = fixedPartsRoom(resolveLimits(LIMITS));
/** About `tokens` tokens of text (one per word). */
const words = (tokens: number) => 'word '.repeat(tokens);

async function refusal(call: Promise<unknown>): Promise<SessionError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SessionError);
  return error as SessionError;
}

/** The refusal says the counts, the room, and what to do. */
function expectFixedPartsRefusal(error: SessionError, part: string) {
  expect(error.code).toBe('INVALID_ARGUMENT');
  expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large', room: ROOM, threshold: 18_000 });
  const tokens = error.details['tokens'] as number;
  expect(tokens).toBeGreaterThanOrEqual(ROOM);
  expect(error.message).toContain(`${tokens} tokens`);
  expect(error.message).toContain(`more than the ${ROOM} the limits leave them`);
  expect(error.message).toContain(`Shorten the ${part}`);
  expect(error.message).toContain('larger maxTokens');
  expect(error.message).toContain('nothing was written');
}

describe('a description and context that leave no room for a conversation', () => {
  it('createSession refuses such a context and writes no session', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    const runtime = await createSessionRuntime({ root, compactor, limits: LIMITS });
    const error = await refusal(runtime.createSession(KEY, { context: { projectNotes: words(ROOM + 500) } }));
    expectFixedPartsRefusal(error, 'context');
    expect(await runtime.listSessions()).toEqual([]);
    expect(await readdir(path.join(root, '.dagent', 'sessions')).catch(() => [])).toEqual([]);
    // One that leaves room is taken.
    const { id } = await runtime.createSession(KEY, { context: { projectNotes: words(ROOM - 1_000) } });
    expect((await runtime.buildRequest(id, 'Go on')).fits).toBe(true);
    expect(compactor.calls).toBe(0);
    await runtime.close();
  });

  it('setContext and setAgentDescription refuse it and change nothing; the session keeps working', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    const runtime = await createSessionRuntime({ root, compactor, limits: LIMITS });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Export' } });
    await runtime.addMessage(id, { role: 'user', content: 'Write the exporter' });
    await settle(runtime, id);
    const dir = path.join(root, '.dagent', 'sessions', id);
    const before = await snapshotDir(dir);
    const events: string[] = [];
    runtime.subscribe((event) => events.push(event.type));

    expectFixedPartsRefusal(
      await refusal(runtime.setContext(id, { projectNotes: words(3 * ROOM) })),
      'context',
    );
    expectFixedPartsRefusal(
      await refusal(runtime.setAgentDescription(id, { role: 'dev', instructions: words(ROOM + 200) })),
      'agentDescription',
    );
    expect(await snapshotDir(dir)).toEqual(before);
    expect(events).toEqual([]);
    expect(await runtime.getContext(id)).toEqual({ featureName: 'Export' });

    // No compaction was started for them, and requests are built as before.
    await runtime.addMessage(id, { role: 'assistant', content: 'Done' });
    await settle(runtime, id);
    expect((await runtime.buildRequest(id, 'Next')).fits).toBe(true);
    expect(compactor.calls).toBe(0);
    expect((await runtime.getSession(id)).state).toBe('idle');
    await runtime.close();
  });

  it('counts them as requests do: the learned correction factor makes the same context too large', async () => {
    const root = await tempRoot();
    const estimator = new TiktokenEstimator();
    const runtime = await createSessionRuntime({ root, estimator, limits: LIMITS });
    const { id } = await runtime.createSession(KEY);
    const context = { projectNotes: words(Math.floor(ROOM * 0.7)) };
    await runtime.setContext(id, context); // fits at factor 1
    await runtime.setContext(id, {}); // back to none
    const { calibration } = runtime;
    for (let i = 0; i < 50; i++) calibration.observe('claude-sonnet-4-5', 1_000, 1_600);
    expect(calibration.factor('claude-sonnet-4-5')).toBeGreaterThan(1.5);
    await runtime.close();
    // A runtime of that model with that calibration: the same context passes the room once corrected.
    const later = await createSessionRuntime({
      root,
      estimator,
      calibration,
      model: 'claude-sonnet-4-5',
      limits: LIMITS,
    });
    const error = await refusal(later.setContext(id, context));
    expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large' });
    expect(error.message).toMatch(/locally, times the learned correction 1\.\d+/);
    await later.close();
  });

  it('createSessionRuntime refuses an agent profile whose description alone passes its limits', async () => {
    const root = await tempRoot();
    const error = await refusal(
      createSessionRuntime({
        root,
        agents: { dev: { description: { role: 'dev', instructions: words(ROOM + 100) }, limits: LIMITS } },
      }),
    );
    expectFixedPartsRefusal(error, 'dev.description');
    expect(error.message).toContain('createSessionRuntime: agents: dev');
    // The same description with the default window is fine.
    const runtime = await createSessionRuntime({
      root,
      agents: { dev: { description: { role: 'dev', instructions: words(ROOM + 100) } } },
    });
    await runtime.close();
  });
});

describe('a session stored with such parts (made under larger limits)', () => {
  it('loads, keeps its messages readable, says why no request fits, and can be shrunk part by part', async () => {
    const root = await tempRoot();
    const compactor = new ScriptedCompactor();
    const first = await createSessionRuntime({ root, compactor });
    const { id } = await first.createSession(KEY, {
      agentDescription: { role: 'dev', instructions: words(15_000) },
      context: { projectNotes: words(15_000) },
    });
    await first.addMessage(id, { role: 'user', content: 'Keep me' });
    await first.close();

    const runtime = await createSessionRuntime({ root, compactor, limits: LIMITS });
    const failures: { code: string; reason: string; willRetryInMs: number | null }[] = [];
    runtime.subscribe((event) => {
      if (event.type === 'session.compaction.failed') failures.push(event);
    });
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['Keep me']);
    expect((await runtime.getHistory(id)).map((m) => m.content)).toEqual(['Keep me']);
    await settle(runtime, id);
    // No compaction can help (the description and context alone pass maxTokens), so loading it
    // starts none (before: one, two compactor calls, and one more every 4,000 tokens appended);
    // the session says why, without a compactor call.
    const why = /take \d+ tokens of every request.*pass maxTokens 20000: no compaction can help/;
    const parts = /the agent description \(\d+ tokens\) and the context \(\d+ tokens\)/;
    const info = await runtime.getSession(id);
    expect(info.state).toBe('failed');
    expect(info.error).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    expect(info.error?.message).toMatch(why);
    expect(info.error?.message).toMatch(parts);
    expect(failures).toMatchObject([{ code: 'COMPACTION_NO_PROGRESS', willRetryInMs: null }]);
    for (let i = 0; i < 3; i++) {
      await runtime.addMessage(id, { role: 'user', content: words(3_000) });
      await settle(runtime, id);
    }
    const error = await refusal(runtime.buildRequest(id, 'Go on'));
    expect(error.code).toBe('REQUEST_TOO_LARGE');
    expect(error.message).toMatch(/no live message at all \(limit 20000\); shorten the agent description/);
    // buildRequest starts no compaction for it either (with AnthropicCompactor, model calls).
    await expect(runtime.buildRequest(id, 'Go on')).rejects.toMatchObject({ code: 'REQUEST_TOO_LARGE' });
    expect(compactor.calls).toBe(0);
    expect(failures).toHaveLength(1);
    // Shrinking one part is taken though both together still pass the room; growing one is not.
    await runtime.setContext(id, { projectNotes: words(10_000) });
    const grown = await refusal(runtime.setContext(id, { projectNotes: words(12_000) }));
    expect(grown.details).toMatchObject({ reason: 'fixed-parts-too-large' });
    await runtime.setAgentDescription(id, { role: 'dev' });
    await runtime.setContext(id, { projectNotes: words(1_000) });
    // With parts a compaction can help, the session compacts its 9,000 tokens of messages again.
    await settle(runtime, id);
    expect((await runtime.getSession(id)).error).toBeNull();
    expect(compactor.calls).toBeGreaterThan(0);
    expect((await runtime.buildRequest(id, 'Go on')).fits).toBe(true);
    expect((await runtime.getHistory(id)).map((m) => m.content)[0]).toBe('Keep me');
    await runtime.close();
  });
});

describe('a session stored with parts that reach the threshold but fit maxTokens', () => {
  /** A session made under the default window, reopened with LIMITS: `each` tokens a part, one message. */
  async function stored(each: number, compactor: ScriptedCompactor) {
    const root = await tempRoot();
    const first = await createSessionRuntime({ root, compactor });
    const { id } = await first.createSession(KEY, {
      agentDescription: { role: 'dev', instructions: words(each) },
      context: { projectNotes: words(each) },
    });
    await first.addMessage(id, { role: 'user', content: 'Keep me' });
    await first.close();
    return { id, runtime: await createSessionRuntime({ root, compactor, limits: LIMITS }) };
  }

  it('starts no compaction (no compactor call) and still builds requests while they fit', async () => {
    // 17,218 tokens of parts + 1,000 for the reply: at the threshold (18,000) with no checkpoint
    // and no message, under maxTokens (20,000). Before: 2 compactor calls on load, 3 more on the
    // first buildRequest, and 1 more on every buildRequest after it (7 here), for nothing.
    const compactor = new ScriptedCompactor();
    const { id, runtime } = await stored(8_600, compactor);
    const failures: string[] = [];
    runtime.subscribe((event) => {
      if (event.type === 'session.compaction.failed') failures.push(event.code);
    });
    await settle(runtime, id);
    expect(compactor.calls).toBe(0);
    const info = await runtime.getSession(id);
    expect(info.state).toBe('failed');
    expect(info.error).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    const why = /reach the compaction threshold 18000: no compaction can bring a request under it/;
    expect(info.error?.message).toMatch(why);
    expect(info.error?.message).toMatch(/still built while they fit maxTokens 20000/);
    expect(info.error?.message).toMatch(/Shorten them \(setContext, setAgentDescription\)/);
    for (let i = 0; i < 6; i++) {
      await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: words(300) });
      await settle(runtime, id);
    }
    for (let i = 0; i < 3; i++) {
      const request = await runtime.buildRequest(id, 'Go on');
      expect(request.fits).toBe(true);
      expect(request.compacted).toBe(false);
      expect(request.compactionError?.code).toBe('COMPACTION_NO_PROGRESS');
      expect(request.compactionError?.message).toMatch(why);
      // 7 messages of about 1,900 tokens do not fit beside the parts: the oldest are left out.
      expect(request.omittedMessages).toBeGreaterThan(0);
      expect(request.totalTokens).toBeLessThanOrEqual(20_000);
    }
    expect(compactor.calls).toBe(0);
    expect(failures).toEqual(['COMPACTION_NO_PROGRESS']);
    expect(await runtime.getMessages(id)).toHaveLength(7);
    // A compaction asked for still runs (it folds the messages into the checkpoint).
    await runtime.compact(id).catch(() => undefined);
    expect(compactor.calls).toBeGreaterThan(0);
    // With parts a compaction can help, the session compacts by itself again.
    await runtime.setContext(id, { projectNotes: words(1_000) });
    await runtime.addMessage(id, { role: 'user', content: words(300) });
    await settle(runtime, id);
    expect((await runtime.getSession(id)).error).toBeNull();
    await runtime.close();
  });

  it('after a compaction that could not get under the threshold, buildRequest waits as the trigger does', async () => {
    // 16,988 tokens of parts + 1,000: 12 under the threshold, less than any checkpoint the
    // compactor writes. Before: 2 calls on the first append, 3 on the first buildRequest and 1 on
    // each after it; now the requests wait as the session's own trigger does (keepRecentTokens more).
    const compactor = new ScriptedCompactor();
    const { id, runtime } = await stored(8_485, compactor);
    await settle(runtime, id);
    for (let i = 0; i < 3; i++) {
      await runtime.addMessage(id, { role: i % 2 ? 'assistant' : 'user', content: words(300) });
      await settle(runtime, id);
    }
    const info = await runtime.getSession(id);
    expect(info.state).toBe('failed');
    expect(info.error).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    const calls = compactor.calls;
    expect(calls).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      const request = await runtime.buildRequest(id, 'Go on');
      expect(request.fits).toBe(true);
      expect(request.compactionError).toMatchObject({ code: 'COMPACTION_NO_PROGRESS' });
    }
    expect(compactor.calls).toBe(calls);
    await runtime.close();
  });
});

describe('a context or description past maxMessageBytes', () => {
  it('is refused while it is copied, before it is counted, by each call that sets one', async () => {
    const root = await tempRoot();
    const counted: number[] = [];
    class Counting extends TiktokenEstimator {
      override estimate(text: string): number {
        counted.push(text.length);
        return super.estimate(text);
      }
    }
    const maxMessageBytes = 64 * 1024;
    const big = 'x'.repeat(maxMessageBytes + 1);
    const runtime = await createSessionRuntime({ root, estimator: new Counting(), maxMessageBytes });
    const { id } = await runtime.createSession(KEY);
    counted.length = 0;
    for (const call of [
      runtime.setContext(id, { notes: big }),
      runtime.setAgentDescription(id, { role: 'dev', notes: big }),
      runtime.createSession({ ...KEY, featureId: 'f2' }, { context: { notes: big } }),
    ]) {
      const error = await refusal(call);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ reason: 'too-many-bytes', maxBytes: maxMessageBytes });
      expect(error.message).toContain(`passes ${maxMessageBytes} bytes of text`);
      expect(error.message).toContain('raise maxMessageBytes');
    }
    expect(counted.filter((length) => length > maxMessageBytes)).toEqual([]);
    expect((await runtime.listSessions()).map((s) => s.id)).toEqual([id]);
    const profile = await refusal(
      createSessionRuntime({
        root: await tempRoot(),
        maxMessageBytes,
        agents: { dev: { description: { role: 'dev', notes: big } } },
      }),
    );
    expect(profile.details).toMatchObject({ reason: 'too-many-bytes' });
    expect(profile.message).toContain('dev.description passes');
    await runtime.close();
  });

  it('does not measure a long string that passes the limit by its length alone', async () => {
    // 100,000 characters of 3 bytes: 100,000 units already pass 90,000 bytes; measuring a 500 MB
    // string (and flattening it first) held the event loop 3.7 s before it was refused.
    const runtime = await createSessionRuntime({ root: await tempRoot(), maxMessageBytes: 90_000 });
    const { id } = await runtime.createSession(KEY);
    const error = await refusal(runtime.setContext(id, { notes: '€'.repeat(100_000) }));
    expect(error.details).toMatchObject({ reason: 'too-many-bytes', maxBytes: 90_000 });
    // Counted by its length (at least 1 byte a unit, and the 5 of "notes"), not its 300,000 bytes.
    expect(error.details['countedBytes']).toBe(100_005);
    await runtime.close();
  });
});
