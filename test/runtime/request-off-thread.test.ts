/**
 * The first request built in a process for a session with a long context does not count it on
 * the main thread. A request counts the rendered description and context, and the system prompt
 * that holds them; before, the first `previewRequest` or `buildRequest` of a session with a 4 MB
 * context counted both with `estimate` here and held the event loop for 0.7 s (longest
 * setInterval gap, loaded 2-core machine; 0.16-0.26 s after, the rendering and hashing left). Now
 * the context's count is the one persisted with it (the same rendered text, by its hash), and the
 * system prompt is counted on the counting worker: the request is the one built before.
 */
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { TiktokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { tempRoot } from '../helpers/temp-root.js';
import { notes, watchedEstimator } from '../helpers/watched-counts.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f1' };

/** The same counts, without the async path: requests built as before, all on this thread. */
function onThisThread(): TokenEstimator {
  const exact = new TiktokenEstimator();
  return {
    name: exact.name,
    estimate: (text) => exact.estimate(text),
    estimateContent: (content) => exact.estimateContent(content),
    estimateMessage: (message) => exact.estimateMessage(message),
    estimateMessages: (messages) => exact.estimateMessages(messages),
    estimateCheckpoint: (checkpoint) => exact.estimateCheckpoint(checkpoint),
  };
}

describe('the first request of a session with a long context', () => {
  it('counts it from its stored count and on the worker while timers fire: the same request', async () => {
    const limits = { maxTokens: 2_000_000 };
    const root = await tempRoot();
    const writer = await createSessionRuntime({ root, compactor: new ScriptedCompactor(), limits });
    const { id } = await writer.createSession(KEY, { context: { projectNotes: notes(1024 * 1024) } });
    await writer.addMessage(id, { role: 'user', content: 'Export the report' });
    await writer.addMessage(id, { role: 'assistant', content: 'Exported to out/report.csv' });
    // In messages form, its text joins the system prompt: another text than the flattened head.
    await writer.addMessage(id, { role: 'system', content: 'Tests run with npm test' });
    await writer.close();

    const calls = (runtime: Awaited<ReturnType<typeof createSessionRuntime>>) => [
      () => runtime.previewRequest(id),
      () => runtime.buildRequest(id, 'Continue', { format: 'flattened' }),
      () => runtime.buildRequest(id, 'Continue', { format: 'messages' }),
    ];
    // As before: every count on this thread.
    const before = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator: onThisThread(),
    });
    const expected = [];
    for (const call of calls(before)) expected.push(await call());
    await before.close();

    const { estimator, countedHere, events } = watchedEstimator();
    const runtime = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
    });
    const built = [];
    for (const call of calls(runtime)) built.push(await call());
    // Nothing long counted here; the context's count was the stored one: the worker counted only
    // the two system prompts (the flattened head, the messages form's), with timers firing meanwhile.
    expect(countedHere.filter((chars) => chars >= estimator.offThreadChars)).toEqual([]);
    expect(events).toEqual(['count started', 'timer', 'count done', 'count started', 'timer', 'count done']);
    for (const [i, request] of built.entries()) {
      expect(request.breakdown).toEqual(expected[i]!.breakdown);
      expect(request.totalTokens).toBe(expected[i]!.totalTokens);
      expect(request.systemPrompt).toBe(expected[i]!.systemPrompt);
      expect(request.messages).toEqual(expected[i]!.messages);
    }
    // Built again: remembered, counted neither here nor on the worker.
    for (const [i, call] of calls(runtime).entries())
      expect((await call()).breakdown).toEqual(expected[i]!.breakdown);
    expect(countedHere.filter((chars) => chars >= estimator.offThreadChars)).toEqual([]);
    expect(events).toHaveLength(6);
    await runtime.close();
  });
});
