/**
 * Every options object of the public API refuses a name that is none of its options, naming it
 * (`src/core/option-names.ts`). Before, each of these was ignored without a word: a misspelt
 * `maxTokns` ran at the default window, `modle` compacted with the default model, `encodng` counted
 * in cl100k_base, `readonly` opened a writer and took the root's lock, `contxt` started the session
 * without its context, `idempotncyKey` stored a retried turn twice, `versoin` read the current
 * checkpoint. A name whose value is `undefined` says nothing and is let be.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { AnthropicCompactor } from '../../src/compaction/anthropic-compactor.js';
import { OfflineCompactor, type OfflineCompactorOptions } from '../../src/compaction/offline-compactor.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import type { CreateSessionOptions, SessionRuntimeOptions } from '../../src/runtime/types.js';
import type { SendOptions } from '../../src/runtime/conversation.js';
import type { Limits } from '../../src/core/types.js';
import {
  createMemorySessionStore,
  createMemoryStorage,
  type MemorySessionStoreOptions,
} from '../../src/store/memory-session-store.js';
import { JsonFileSessionStore, type SessionStoreOptions } from '../../src/store/session-store.js';
import { TokenCalibration, type TokenCalibrationOptions } from '../../src/tokens/calibration.js';
import { createTokenEstimator, type TokenEstimatorOptions } from '../../src/tokens/token-estimator.js';
import type { AnthropicCompactorOptions } from '../../src/compaction/anthropic-options.js';
import { exists, tempRoot } from '../helpers/temp-root.js';
import path from 'node:path';

const refused = (name: string, options: string) => ({
  code: 'INVALID_ARGUMENT',
  message: expect.stringContaining(`"${name}" is not an option; the options are ${options}`),
});

describe('the options of the constructors and stores refuse a name that is none of theirs', () => {
  it('AnthropicCompactor: a misspelt model is refused, not sent to the default model', () => {
    const misspelt = { apiKey: 'sk-test', modle: 'claude-haiku-5-5' } as AnthropicCompactorOptions;
    expect(() => new AnthropicCompactor(misspelt)).toThrow(
      expect.objectContaining(refused('modle', 'client, apiKey, baseURL, model,')),
    );
    const loose = {
      apiKey: 'sk-test',
      model: 'claude-haiku-5-5',
      modle: undefined,
    } as AnthropicCompactorOptions;
    expect(new AnthropicCompactor(loose).model).toBe('claude-haiku-5-5');
  });

  it('OfflineCompactor, the token estimator and the calibration', () => {
    const offline = { maxInputToken: 5 } as OfflineCompactorOptions;
    expect(() => new OfflineCompactor(offline)).toThrow(
      expect.objectContaining(refused('maxInputToken', 'estimator, maxInputTokens')),
    );
    const estimator = { encodng: 'o200k_base' } as TokenEstimatorOptions;
    expect(() => createTokenEstimator(estimator)).toThrow(
      expect.objectContaining(refused('encodng', 'mode, encoding, offThreadChars')),
    );
    expect(createTokenEstimator({ encoding: 'o200k_base', mode: undefined }).mode).toBe('exact');
    const calibration = { smoothng: 0.9 } as TokenCalibrationOptions;
    expect(() => new TokenCalibration(calibration)).toThrow(
      expect.objectContaining(refused('smoothng', 'smoothing, minFactor, maxFactor, minTokens')),
    );
  });

  it('the JSON-file store: a misspelt readOnly is refused before the root is locked', async () => {
    const root = await tempRoot();
    const misspelt = { root, readonly: true } as SessionStoreOptions;
    await expect(JsonFileSessionStore.open(misspelt)).rejects.toMatchObject(
      refused('readonly', 'root, readOnly,'),
    );
    expect(await exists(path.join(root, '.dagent'))).toBe(false);
    // Nothing held the root: a writer opens it.
    const writer = await JsonFileSessionStore.open({ root, readOnly: undefined });
    await writer.close();
  });

  it('the memory store: a misspelt readOnly is refused without taking the storage', async () => {
    const storage = createMemoryStorage();
    const misspelt = { storage, readonly: true } as MemorySessionStoreOptions;
    expect(() => createMemorySessionStore(misspelt)).toThrow(
      expect.objectContaining(refused('readonly', 'storage, readOnly, description, hooks')),
    );
    expect(storage.writer).toBeNull();
    const writer = createMemorySessionStore({ storage });
    await writer.close();
  });

  it('limits, supervisor, compaction: a misspelt name is refused (resolveLimits, createSessionRuntime)', async () => {
    const misspelt = { maxTokns: 5_000 } as Partial<Limits>;
    expect(() => resolveLimits(misspelt)).toThrow(
      expect.objectContaining(refused('maxTokns', 'maxTokens, compactAt, keepRecentTokens,')),
    );
    const root = await tempRoot();
    const options = { root, limits: misspelt } as SessionRuntimeOptions;
    await expect(createSessionRuntime(options)).rejects.toMatchObject(refused('maxTokns', 'maxTokens,'));
    const perAgent = { root, agents: { dev: { limits: misspelt } } } as SessionRuntimeOptions;
    await expect(createSessionRuntime(perAgent)).rejects.toMatchObject(refused('maxTokns', 'maxTokens,'));
    const supervisor = { root, supervisor: { maxActiv: 1 } } as unknown as SessionRuntimeOptions;
    await expect(createSessionRuntime(supervisor)).rejects.toMatchObject(
      refused('maxActiv', 'sweepIntervalMs, idleSweeps, maxActive, maxRestarts'),
    );
    const compaction = { root, compaction: { timeoutMS: 5 } } as unknown as SessionRuntimeOptions;
    await expect(createSessionRuntime(compaction)).rejects.toMatchObject(
      refused('timeoutMS', 'timeoutMs, retryBaseMs, retryMaxMs'),
    );
    // The root stayed free, and the right name is taken.
    const runtime = await createSessionRuntime({ root, limits: { maxTokens: 20_000, compactAt: undefined } });
    const info = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'f' });
    expect(info.limits.maxTokens).toBe(20_000);
    await runtime.close();
  });
});

describe("the runtime's methods refuse a name that is none of their options", () => {
  const key = { type: 'feature', agentType: 'dev', featureId: 'f' } as const;

  it('createSession: a misspelt context is refused and nothing is written', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const misspelt = { contxt: { repo: 'r' } } as CreateSessionOptions;
    await expect(runtime.createSession(key, misspelt)).rejects.toMatchObject(
      refused('contxt', 'context, agentDescription, checkpoint'),
    );
    expect(await runtime.listSessions()).toEqual([]);
    const { id } = await runtime.createSession(key, { context: { repo: 'r' }, checkpoint: undefined });
    expect(await runtime.getContext(id)).toEqual({ repo: 'r' });
    await runtime.close();
  });

  it('compact and getCheckpoint: misspelt names are refused, right ones taken', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession(key);
    await runtime.addMessage(id, { role: 'user', content: 'hello' });
    const compactOptions = { keepRecent: 0 } as { keepRecentTokens?: number };
    await expect(runtime.compact(id, compactOptions)).rejects.toMatchObject(
      refused('keepRecent', 'keepRecentTokens'),
    );
    const compacted = await runtime.compact(id, { keepRecentTokens: 0 });
    expect(compacted.checkpointVersion).toBe(1);
    const checkpointOptions = { versoin: 0 } as { version?: number };
    await expect(runtime.getCheckpoint(id, checkpointOptions)).rejects.toMatchObject(
      refused('versoin', 'version'),
    );
    expect((await runtime.getCheckpoint(id, { version: 1 }))?.version).toBe(1);
    // null is no options, as the IPC's optional arguments (before, compact threw a TypeError on it).
    expect((await runtime.getCheckpoint(id, null as unknown as { version?: number }))?.version).toBe(1);
    await runtime.addMessage(id, { role: 'user', content: 'again' });
    const nothing = await runtime.compact(id, null as unknown as { keepRecentTokens?: number });
    expect(nothing.checkpointVersion).toBeGreaterThanOrEqual(1);
    await runtime.close();
  });

  it('send and calibrate: a misspelt name is refused before the model is called or a message stored', async () => {
    let calls = 0;
    const client = new Proxy(
      {},
      {
        get() {
          calls += 1;
          throw new Error('the model must not be called');
        },
      },
    ) as Anthropic;
    const runtime = await createSessionRuntime({ root: await tempRoot(), client });
    const { id } = await runtime.createSession(key);
    await runtime.addMessage(id, { role: 'user', content: 'hello' });
    const sendOptions = { idempotncyKey: 'turn-1' } as SendOptions;
    await expect(runtime.send(id, 'again', sendOptions)).rejects.toMatchObject(
      refused('idempotncyKey', 'client, model, maxTokens, signal, cache, idempotencyKey'),
    );
    const calibrateOptions = { modle: 'claude-haiku-5-5' } as { model?: string };
    await expect(runtime.calibrate(id, calibrateOptions)).rejects.toMatchObject(
      refused('modle', 'client, model'),
    );
    expect(calls).toBe(0);
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['hello']);
    await runtime.close();
  });
});
