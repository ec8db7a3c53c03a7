/**
 * A long agent description or context is not counted on the main thread: the calls that set one
 * refuse it uncounted when a lower bound of its count (its bytes over the most bytes a token
 * holds) already passes the room the limits leave it, and count it on the counting worker
 * otherwise (the same count). Before, a 15 MB context over the room held the event loop for about
 * a second while it was counted, only to be refused; a 4 MB one that fits a large maxTokens, for
 * 300 ms; `estimate` ran on the main thread with the whole text in both cases. The same holds
 * where a session loads without a matching stored count (counts.json lost, another estimator, an
 * older version), and for an agent type's description as the runtime starts: 4 MB of either held
 * the loop 431-639 ms before (now about 100 ms).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { fixedPartsRoom } from '../../src/core/fixed-parts-room.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { renderAgentDescription, renderContext } from '../../src/request/format.js';
import { MAX_TOKEN_BYTES } from '../../src/tokens/exact-count.js';
import { TiktokenEstimator, type TokenEstimator } from '../../src/tokens/token-estimator.js';
import { ScriptedCompactor } from '../helpers/compactors.js';
import { tempRoot } from '../helpers/temp-root.js';
import { notes, watchedEstimator } from '../helpers/watched-counts.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f1' };
const OTHER: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f2' };

describe('a long description or context', () => {
  it('over the room by its bytes alone is refused uncounted (setContext, setAgentDescription, create)', async () => {
    const limits = { maxTokens: 20_000 };
    const room = fixedPartsRoom(resolveLimits(limits));
    const { estimator, countedHere, events } = watchedEstimator();
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
    });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Export' } });
    countedHere.length = 0;
    events.length = 0;
    // More bytes than the room's tokens can hold at 128 bytes a token: no count can fit.
    const big = notes((room + 1) * MAX_TOKEN_BYTES);
    const calls = [
      () => runtime.setContext(id, { projectNotes: big }),
      () => runtime.setAgentDescription(id, { role: 'developer', instructions: big }),
      () => runtime.createSession(OTHER, { context: { projectNotes: big } }),
    ];
    for (const call of calls) {
      const error = (await call().then(
        () => null,
        (e: unknown) => e,
      )) as SessionError;
      expect(error).toBeInstanceOf(SessionError);
      expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large', room, atLeast: true });
      expect(error.message).toContain('at least');
    }
    // Not counted, neither here nor on the worker.
    expect(countedHere.filter((chars) => chars > 10_000)).toEqual([]);
    expect(events).toEqual([]);
    expect((await runtime.listSessions()).length).toBe(1);
    await runtime.close();
  });

  it('that fits a large maxTokens is counted off the main thread, the same count, while timers fire', async () => {
    const limits = { maxTokens: 2_000_000 };
    const { estimator, countedHere, events } = watchedEstimator();
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
    });
    const context = { projectNotes: notes(1024 * 1024) };
    const { id } = await runtime.createSession(KEY, { context });
    expect(events).toEqual(['count started', 'timer', 'count done']);
    const next = { projectNotes: notes(1024 * 1024 + 10) };
    await runtime.setContext(id, next);
    expect(events.slice(3)).toEqual(['count started', 'timer', 'count done']);
    // Nothing long was counted on this thread.
    expect(countedHere.filter((chars) => chars >= estimator.offThreadChars)).toEqual([]);
    const estimate = await runtime.estimateSize(id);
    await runtime.close();
    // The worker's count is the main thread's: the same code and encoding.
    expect(estimate.breakdown.context).toBe(new TiktokenEstimator().estimate(renderContext(next)));
  });

  it('is counted on the main thread by an estimator without the async path', async () => {
    const exact = new TiktokenEstimator();
    const plain: TokenEstimator = {
      name: 'plain',
      estimate: (text) => exact.estimate(text),
      estimateContent: (content) => exact.estimateContent(content),
      estimateMessage: (message) => exact.estimateMessage(message),
      estimateMessages: (messages) => exact.estimateMessages(messages),
      estimateCheckpoint: (checkpoint) => exact.estimateCheckpoint(checkpoint),
    };
    const limits = { maxTokens: 20_000 };
    const room = fixedPartsRoom(resolveLimits(limits));
    const root = await tempRoot();
    const runtime = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator: plain,
    });
    const { id } = await runtime.createSession(KEY, { context: { featureName: 'Export' } });
    const fits = { projectNotes: 'word '.repeat(room / 2) };
    await runtime.setContext(id, fits);
    expect((await runtime.estimateSize(id)).breakdown.context).toBe(exact.estimate(renderContext(fits)));
    const error = (await runtime.setContext(id, { projectNotes: notes(room * MAX_TOKEN_BYTES) }).then(
      () => null,
      (e: unknown) => e,
    )) as SessionError;
    // Refused on its count: this estimator has no lower bound.
    expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large', room });
    expect(error.details['atLeast']).toBeUndefined();
    await runtime.close();
    // Loaded without its counts, the session is counted on this thread: the same count.
    await rm(path.join(root, '.dagent', 'sessions', id, 'counts.json'));
    const reader = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator: plain,
    });
    expect((await reader.estimateSize(id)).breakdown.context).toBe(exact.estimate(renderContext(fits)));
    await reader.close();
    // And an agent type's description too.
    const refused = (await createSessionRuntime({
      root: await tempRoot(),
      compactor: new ScriptedCompactor(),
      limits,
      estimator: plain,
      agents: { dev: { description: { role: 'developer', instructions: 'word '.repeat(room) } } },
    }).then(
      () => null,
      (e: unknown) => e,
    )) as SessionError;
    expect(refused.details).toMatchObject({ reason: 'fixed-parts-too-large', room });
    expect(refused.details['atLeast']).toBeUndefined();
  });

  it('stored without its count is counted off the main thread when the session loads, once', async () => {
    const limits = { maxTokens: 2_000_000 };
    const root = await tempRoot();
    const context = { projectNotes: notes(1024 * 1024) };
    const writer = await createSessionRuntime({ root, compactor: new ScriptedCompactor(), limits });
    const { id } = await writer.createSession(KEY, { context });
    await writer.close();
    // As an older version, or a lost file, leaves it: no counts.
    await rm(path.join(root, '.dagent', 'sessions', id, 'counts.json'));
    const { estimator, countedHere, events } = watchedEstimator();
    const reader = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
    });
    const estimate = await reader.estimateSize(id);
    expect(events).toEqual(['count started', 'timer', 'count done']);
    expect(countedHere.filter((chars) => chars >= estimator.offThreadChars)).toEqual([]);
    expect(estimate.breakdown.context).toBe(new TiktokenEstimator().estimate(renderContext(context)));
    await reader.close();
    // The count made on load was persisted: the next load counts nothing.
    const again = watchedEstimator();
    const next = await createSessionRuntime({
      root,
      compactor: new ScriptedCompactor(),
      limits,
      estimator: again.estimator,
    });
    expect((await next.estimateSize(id)).breakdown.context).toBe(estimate.breakdown.context);
    expect(again.events).toEqual([]);
    await next.close();
  });
});

describe("an agent type's long description", () => {
  it('is counted off the main thread as the runtime starts, the same count', async () => {
    const limits = { maxTokens: 2_000_000 };
    const description = { role: 'developer', instructions: notes(1024 * 1024) };
    const { estimator, countedHere, events } = watchedEstimator();
    const runtime = await createSessionRuntime({
      root: await tempRoot(),
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
      agents: { dev: { description } },
    });
    expect(events).toEqual(['count started', 'timer', 'count done']);
    expect(countedHere.filter((chars) => chars >= estimator.offThreadChars)).toEqual([]);
    const { id } = await runtime.createSession(KEY);
    const estimate = await runtime.estimateSize(id);
    await runtime.close();
    const counted = new TiktokenEstimator().estimate(renderAgentDescription(description));
    expect(estimate.breakdown.agentDescription).toBe(counted);
  });

  it('over the room by its bytes alone is refused uncounted as the runtime starts', async () => {
    const limits = { maxTokens: 20_000 };
    const room = fixedPartsRoom(resolveLimits(limits));
    const { estimator, countedHere, events } = watchedEstimator();
    const description = { role: 'developer', instructions: notes((room + 1) * MAX_TOKEN_BYTES) };
    const error = (await createSessionRuntime({
      root: await tempRoot(),
      compactor: new ScriptedCompactor(),
      limits,
      estimator,
      agents: { dev: { description } },
    }).then(
      () => null,
      (e: unknown) => e,
    )) as SessionError;
    expect(error).toBeInstanceOf(SessionError);
    expect(error.message).toContain('createSessionRuntime: agents: dev');
    expect(error.details).toMatchObject({ reason: 'fixed-parts-too-large', room, atLeast: true });
    expect(countedHere.filter((chars) => chars > 10_000)).toEqual([]);
    expect(events).toEqual([]);
  });
});
