import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { createSessionApiFromInvoke } from '../../src/ipc/api.js';
import {
  SESSION_CHANNELS,
  SessionIpcError,
  ipcErrorCodeOf,
  methodOf,
  type IpcResult,
  type SessionChannel,
} from '../../src/ipc/channels.js';
import { createSessionHandlers, handlerOf, toIpcError } from '../../src/ipc/handlers.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';
import { KEY, expectJsonSafe, walkEveryChannel, walkRuntime } from './happy-path.js';

describe('createSessionHandlers', () => {
  it('has one handler per channel, and a SessionAPI method of the same name', () => {
    const handlers = createSessionHandlers({ subscribe: () => () => undefined } as unknown as SessionRuntime);
    expect(Object.keys(handlers).sort()).toEqual([...SESSION_CHANNELS].sort());
    const api = createSessionApiFromInvoke(
      async () => ({ ok: true, value: null }),
      () => () => undefined,
    );
    for (const channel of SESSION_CHANNELS) expect(typeof api[methodOf(channel)]).toBe('function');
    expect(handlerOf(handlers, '__proto__')).toBeUndefined();
    expect(handlerOf(handlers, 'constructor')).toBeUndefined();
    expect(handlerOf(handlers, 'session:get')).toBe(handlers['session:get']);
  });

  it('serves every channel; each answer is an envelope that JSON round-trips unchanged', async () => {
    const walk = await walkRuntime();
    const runtime = walk.runtime;
    const handlers = createSessionHandlers(runtime);
    const calls: Array<[SessionChannel, unknown[]]> = [];
    const api = createSessionApiFromInvoke(
      async (channel, ...args) => {
        calls.push([channel, args]);
        const result = await handlers[channel](...args);
        expectJsonSafe(result);
        return result;
      },
      (deliver) => runtime.subscribe(deliver),
    );
    const seen = await walkEveryChannel(api);
    expect(new Set(calls.map(([c]) => c))).toEqual(new Set(SESSION_CHANNELS));
    expect(Object.keys(seen).length).toBeGreaterThan(15);
    await walk.close();
  });

  it('answers null for calls that return nothing, and takes null for a left-out optional argument', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const handlers = createSessionHandlers(runtime);
    const created = await handlers['session:create'](KEY, null);
    expect(created.ok).toBe(true);
    const id = created.ok ? created.value.id : '';
    expect(await handlers['session:setContext'](id, { featureName: 'x' })).toEqual({ ok: true, value: null });
    const preview = await handlers['session:previewRequest'](id, null, { format: 'messages' });
    expect(preview.ok && preview.value.messages).toEqual([]);
    await runtime.close();
  });

  it.each([
    ['session:get', [], /session:get takes 1 argument, got 0; call it as session:get\(id\)/],
    ['session:list', ['x'], /session:list takes 0 arguments, got 1/],
    [
      'session:buildRequest',
      ['feature--f1--pm'],
      /takes 2 to 3 arguments, got 1; call it as session:buildRequest\(id, userMessage, options\?\)/,
    ],
    [
      'session:get',
      [42],
      /argument 1 \(id\): must be a session id string like "feature--f1--pm", got the number 42/,
    ],
    ['session:get', ['../x'], /argument 1 \(id\): session id "..\/x" may only contain letters/],
    ['session:get', ['x'.repeat(500_000)], /at most 200 are allowed/],
    [
      'session:create',
      [{ type: 'feature', agentType: 'boss', featureId: 'f' }],
      /agent type "boss" is not registered with this runtime; the agent types are pm, dev, qa, harness, merge/,
    ],
    [
      'session:create',
      [{ type: 'feature', agentType: 'a/b', featureId: 'f' }],
      /argument 1 \(key\): agentType "a\/b"/,
    ],
    [
      'session:create',
      [KEY, { contxt: {} }],
      /argument 2 \(options\): "contxt" is not an option; the options are context, agentDescription/,
    ],
    [
      'session:addMessage',
      ['feature--f1--pm', { role: 'user', content: 7 }],
      /argument 2 \(message\): content must be a string or a list of blocks/,
    ],
    [
      'session:compact',
      ['feature--f1--pm', { keepRecentTokens: -1 }],
      /keepRecentTokens must be an integer >= 0, got the number -1/,
    ],
    [
      'session:buildRequest',
      ['feature--f1--pm', 'hi', { format: 'xml' }],
      /format must be "flattened" or "messages", got "xml"/,
    ],
    ['session:setAgentDescription', ['feature--f1--pm', { tools: [] }], /needs a non-empty "role" string/],
    [
      'session:setContext',
      ['feature--f1--pm', JSON.parse('{"__proto__": {"polluted": true}}')],
      /"__proto__" key/,
    ],
  ] as const)('refuses %s %j with a message that says what is wrong', async (channel, args, message) => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const result = await createSessionHandlers(runtime)[channel](...args);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.message).toMatch(message);
      expect(result.error.message.length).toBeLessThan(1_200);
      expect(['INVALID_ARGUMENT', 'INVALID_KEY', 'INVALID_MESSAGE']).toContain(result.error.code);
    }
    await runtime.close();
  });

  it('answers SESSION_NOT_FOUND for a well-formed id of no session', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const result = await createSessionHandlers(runtime)['session:getMessages']('feature--nope--pm');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'SESSION_NOT_FOUND', message: expect.stringMatching(/createSession/) },
    });
    await runtime.close();
  });

  it('turns a SessionError into its code and anything else into INTERNAL_ERROR, never throwing', async () => {
    const broken = {
      getSession: () =>
        Promise.reject(new SessionError('SESSION_UNAVAILABLE', 'runtime', 'busy', { retryable: true })),
      getMessages: () => {
        throw new TypeError('dir.messages is not iterable');
      },
      listSessions: () => Promise.reject(Object.create(null)),
    } as unknown as SessionRuntime;
    const handlers = createSessionHandlers(broken);
    expect(await handlers['session:get']('a')).toEqual({
      ok: false,
      error: { code: 'SESSION_UNAVAILABLE', message: '[dagent-sessions] [runtime] busy', retryable: true },
    });
    const internal = await handlers['session:getMessages']('a');
    expect(internal).toMatchObject({
      ok: false,
      error: {
        code: 'INTERNAL_ERROR',
        message: expect.stringMatching(
          /session:getMessages failed unexpectedly: dir.messages is not iterable.*report it/,
        ),
      },
    });
    // A runtime without the method at all (an older runtime) is an INTERNAL_ERROR too, not a crash.
    expect(await handlers['session:reset']('a')).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL_ERROR' },
    });
    expect(await handlers['session:list']()).toMatchObject({ ok: false, error: { code: 'INTERNAL_ERROR' } });
    expect(toIpcError('plain string', 'x').message).toMatch(/x failed unexpectedly: plain string/);
  });
});

describe('createSessionApiFromInvoke', () => {
  it(
    'drops trailing undefined arguments, ' +
      'throws SessionIpcError with the code, and wraps transport failures',
    async () => {
      const seen: unknown[][] = [];
      const api = createSessionApiFromInvoke(
        async (channel, ...args) => {
          seen.push([channel, ...args]);
          if (channel === 'session:get')
            return {
              ok: false,
              error: { code: 'SESSION_NOT_FOUND', message: 'no such session', retryable: false },
            } satisfies IpcResult;
          if (channel === 'session:list') throw new Error('No handler registered for session:list');
          if (channel === 'session:getMessages') return 'garbage';
          return { ok: true, value: null };
        },
        () => () => undefined,
      );
      await api.create(KEY);
      await api.compact('a', undefined);
      expect(seen).toEqual([
        ['session:create', KEY],
        ['session:compact', 'a'],
      ]);
      const error = await api.get('a').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionIpcError);
      expect(error).toMatchObject({
        code: 'SESSION_NOT_FOUND',
        message: 'SESSION_NOT_FOUND: no such session',
      });
      // What survives contextBridge (the message alone) still tells the code.
      expect(ipcErrorCodeOf(new Error((error as Error).message))).toBe('SESSION_NOT_FOUND');
      await expect(api.list()).rejects.toMatchObject({
        code: 'CONNECTION_FAILED',
        message: expect.stringMatching(/No handler registered/),
      });
      await expect(api.getMessages('a')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    },
  );

  it('shares one event feed between listeners and isolates a throwing listener', () => {
    let starts = 0;
    let stops = 0;
    let deliver: ((e: never) => void) | null = null;
    const api = createSessionApiFromInvoke(
      async () => ({ ok: true, value: null }),
      (d) => {
        starts++;
        deliver = d as never;
        return () => stops++;
      },
    );
    const got: string[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const a = api.onEvent(() => {
        throw new Error('listener bug');
      });
      const b = api.onEvent((e) => got.push(e.type));
      expect(starts).toBe(1);
      deliver!({ type: 'session.cleared', sessionId: 's', at: 'now' } as never);
      expect(got).toEqual(['session.cleared']);
      expect(errors).toHaveLength(1);
      a();
      expect(stops).toBe(0);
      b();
      b();
      expect(stops).toBe(1);
      expect(() => api.onEvent('nope' as never)).toThrow(/onEvent needs a function/);
    } finally {
      console.error = original;
    }
  });
});
