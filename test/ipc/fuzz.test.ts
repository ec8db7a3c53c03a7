/**
 * Property: every channel answers generated bad arguments with a clear `{ ok: false, error }`,
 * never throws, never pollutes prototypes, and writes nothing under the root.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SessionKey } from '../../src/core/types.js';
import { SESSION_CHANNELS, type SessionChannel } from '../../src/ipc/channels.js';
import { createSessionHandlers } from '../../src/ipc/handlers.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const EXISTING: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'f1' };
const EXISTING_ID = 'feature--f1--pm';
// Well-formed, but no such session: must be answered SESSION_NOT_FOUND without creating anything.
const MISSING_IDS = ['feature--nope--pm', 'task--f1--t9--in_qa--qa', 'nothing-here'];
const FRESH_KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'fresh' };

function cyclic(): Record<string, unknown> {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

function deep(levels: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}

/** `__proto__` keys, as JSON.parse makes them (own properties): refused everywhere. */
const protoKeys = () =>
  fc.constantFrom(
    JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
    JSON.parse('{"a": {"__proto__": {"polluted": true}}}') as unknown,
  );
/** Also a `constructor.prototype` path: plain data in a context, but not a key, message or options. */
const polluting = () =>
  fc.oneof(protoKeys(), fc.constant({ constructor: { prototype: { polluted: true } } }));

/** Values no parameter accepts as they are: wrong types, non-JSON values, cycles. */
const junk = () =>
  fc.oneof(
    fc.constantFrom<unknown>(
      Number.NaN,
      Infinity,
      -Infinity,
      0,
      -1,
      1.5,
      true,
      false,
      10n,
      Symbol('s'),
      () => 1,
      new Date(0),
      new Map(),
      new Uint8Array(3),
      cyclic(),
      deep(200),
    ),
    fc.integer(),
    fc.array(fc.anything(), { maxLength: 4 }),
  );

const unsafeIds = () =>
  fc.oneof(
    fc.constantFrom(
      '',
      '.',
      '..',
      '../x',
      'a/b',
      'a\\b',
      '__proto__',
      'constructor',
      'prototype',
      'a b',
      'x\u0000y',
      '../../etc/passwd',
      'x'.repeat(201),
      'x'.repeat(1_000_000),
    ),
    fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s}/..`),
  );

const badId = () =>
  fc.oneof(
    unsafeIds(),
    junk(),
    fc.constantFrom<unknown>(null, undefined, {}, { id: EXISTING_ID }),
    polluting(),
    fc.constantFrom(...MISSING_IDS),
  );

const badKey = () =>
  fc.oneof(
    junk(),
    fc.constantFrom<unknown>(null, undefined, 'feature--f1--pm', {}),
    polluting(),
    unsafeIds().map((featureId) => ({ type: 'feature', agentType: 'pm', featureId })),
    unsafeIds().map((taskId) => ({
      type: 'task',
      agentType: 'qa',
      featureId: 'f',
      taskId,
      taskState: 'in_qa',
    })),
    junk().map((agentType) => ({ type: 'feature', agentType, featureId: 'ok' })),
    fc.string({ maxLength: 10 }).map((type) => ({ type: `${type}x`, agentType: 'pm', featureId: 'ok' })),
    fc.constant({ type: 'task', agentType: 'qa', featureId: 'f', taskId: 't', taskState: 'done' }),
    fc.constant({ type: 'feature', agentType: 'pm', featureId: cyclic() }),
  );

const badPlainObject = () =>
  fc.oneof(
    junk(),
    fc.constantFrom<unknown>(null, 'text', []),
    protoKeys(),
    fc.constant({ n: Number.NaN }),
    fc.constant({ f: () => 1 }),
    fc.constant({ d: new Date(0) }),
    fc.constant({ deep: deep(100) }),
  );

const unknownField = (known: string[]) =>
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((k) => !known.includes(k))
    .map((k) => ({ [k]: 1 }));

const badCreateOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['context', 'agentDescription']),
    badPlainObject()
      .filter((v) => v !== undefined)
      .map((context) => ({ context })),
    fc.constantFrom<unknown>(
      { agentDescription: {} },
      { agentDescription: { role: '' } },
      { agentDescription: { role: 5 } },
      { agentDescription: 'dev' },
    ),
  );

const badBlocks = () =>
  fc.constantFrom<unknown>(
    [],
    [{ type: 'image' }],
    [{ type: 'text', text: 5 }],
    [{ type: 'tool_use', name: 'x' }],
    [{ type: 'tool_result', content: 'x' }],
    [cyclic()],
    [null],
    ['text'],
  );

const badMessage = () =>
  fc.oneof(
    junk(),
    fc.constantFrom<unknown>(null, undefined, 'hello', {}),
    polluting(),
    junk().map((role) => ({ role, content: 'x' })),
    fc.string({ maxLength: 8 }).map((role) => ({ role: `${role}!`, content: 'x' })),
    junk()
      .filter((c) => !Array.isArray(c))
      .map((content) => ({ role: 'user', content })),
    badBlocks().map((content) => ({ role: 'assistant', content })),
    badPlainObject()
      .filter((m) => m !== undefined)
      .map((metadata) => ({ role: 'user', content: 'x', metadata })),
    fc.constantFrom<unknown>(
      { role: 'user', content: 'x', timestamp: 'yesterday' },
      { role: 'user', content: 'x', timestamp: 5 },
      { role: 'user', content: [{ type: 'text', text: 'x', extra: cyclic() }] },
    ),
  );

const badUserMessage = (optional: boolean) =>
  fc.oneof(
    junk().filter((v) => !Array.isArray(v)),
    badBlocks(),
    polluting(),
    fc.constantFrom<unknown>({}, ...(optional ? [] : [null, undefined])),
  );

const badRequestOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['format']),
    junk().map((format) => ({ format })),
    fc.constantFrom({ format: 'xml' }, { format: '' }),
  );

const badCompactOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['keepRecentTokens']),
    fc
      .constantFrom<unknown>(-1, 1.5, Number.NaN, Infinity, '100', null, true, 2 ** 60)
      .map((keepRecentTokens) => ({ keepRecentTokens })),
  );

const badHistoryQuery = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['after', 'before', 'limit', 'order']),
    fc.constantFrom<unknown>(
      { limit: 0 },
      { limit: 1.5 },
      { limit: '10' },
      { after: 1.5 },
      { before: '3' },
      { after: 2 ** 60 },
      { order: 'newest' },
      { order: null },
    ),
  );

const badCheckpointOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['version']),
    fc.constantFrom<unknown>({ version: -1 }, { version: 1.5 }, { version: '2' }, { version: null }),
  );

const badDescription = () =>
  fc.oneof(badPlainObject(), fc.constantFrom<unknown>({}, { role: '' }, { role: 7 }, { role: null }));

const badChecks = () =>
  fc.oneof(
    junk().filter((v) => !Array.isArray(v)),
    polluting(),
    fc.constantFrom<unknown>(
      [{}],
      [null],
      [{ checkId: '', passed: true }],
      [{ checkId: 'tests', passed: 'yes' }],
      [{ checkId: 'tests', passed: true, error: 5 }],
      [{ checkId: 'tests', passed: true, at: 'yesterday' }],
      [{ checkId: 'tests', passed: true }, 'lint'],
      { checkId: 'tests', passed: true },
    ),
  );

const badSendOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['model', 'maxTokens']),
    fc.constantFrom<unknown>(
      { model: '' },
      { model: 5 },
      { model: 'x'.repeat(201) },
      { maxTokens: 0 },
      { maxTokens: 1.5 },
      { maxTokens: '100' },
      { client: {} },
      { signal: {} },
    ),
  );

const badLimit = () =>
  fc.oneof(
    junk().filter((v) => !(Number.isSafeInteger(v) && (v as number) >= 1)),
    fc.constantFrom<unknown>(0, -3, 2 ** 60, '10', {}, [5]),
  );

const badEdit = () =>
  fc.oneof(
    badPlainObject(),
    fc.constantFrom<unknown>(
      {},
      { summary: 'all done' },
      { summary: { pending: [1] } },
      { summary: { notes: ['x'] } },
      { ledger: { throughSeq: 5 } },
      { ledger: { problems: 'none' } },
      { ledger: { files: [{ path: 'a.ts' }] } },
      { version: 3 },
      { summary: { pending: ['too long '.repeat(20_000)] } },
    ),
  );

const badDecision = () =>
  fc.oneof(
    badPlainObject(),
    fc.constantFrom<unknown>(
      {},
      { kind: 'vote', subject: 't1' },
      { kind: 'review', subject: 't1' },
      { kind: 'review', subject: '', approved: true },
      { kind: 'review', subject: 't1', approved: 'yes' },
      { kind: 'review', subject: 't1', approved: true, reasons: 'fine' },
      { kind: 'merge', subject: 't1', files: ['a'] },
      { kind: 'decision', subject: 't1', text: 'x', extra: 1 },
    ),
  );

const badRecentOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['includeInternal']),
    fc.constantFrom<unknown>({ includeInternal: 'yes' }, { includeInternal: 1 }),
  );

const badClearOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['iteration', 'decisions']),
    fc.constantFrom<unknown>(
      { iteration: 'one' },
      { iteration: { iteration: 0 } },
      { iteration: { iteration: 1, checks: 'all' } },
      { decisions: 'none' },
      { decisions: [{ kind: 'vote', subject: 'x' }] },
      { decisions: [{ kind: 'review', subject: 'x' }] },
    ),
  );

const badMigrateOptions = () =>
  fc.oneof(
    junk().filter((v) => v !== undefined),
    polluting(),
    unknownField(['dryRun', 'skipInvalid', 'checkpoint']),
    fc.constantFrom<unknown>(
      { dryRun: 'yes' },
      { checkpoint: 1 },
      { skipInvalid: null },
      { root: '/etc' },
      { runtime: {} },
    ),
  );

type Arb = fc.Arbitrary<unknown>;
/** Per channel: a valid value and a bad-value generator for each parameter, in order. */
const PARAMS: Record<SessionChannel, Array<{ valid: unknown; bad: () => Arb; optional?: boolean }>> = (() => {
  const id = { valid: EXISTING_ID, bad: badId };
  return {
    'session:create': [
      { valid: FRESH_KEY, bad: badKey },
      { valid: { context: { a: 1 } }, bad: badCreateOptions, optional: true },
    ],
    'session:get': [id],
    'session:reopen': [id],
    'session:list': [],
    'session:addMessage': [id, { valid: { role: 'user', content: 'hello' }, bad: badMessage }],
    'session:getMessages': [id],
    'session:getHistory': [id, { valid: { limit: 5 }, bad: badHistoryQuery, optional: true }],
    'session:getCheckpoint': [id, { valid: { version: 0 }, bad: badCheckpointOptions, optional: true }],
    'session:getCheckpointVersions': [id],
    'session:estimateSize': [id],
    'session:buildRequest': [
      id,
      { valid: 'next?', bad: () => badUserMessage(false) },
      { valid: { format: 'messages' }, bad: badRequestOptions, optional: true },
    ],
    'session:previewRequest': [
      id,
      { valid: 'next?', bad: () => badUserMessage(true), optional: true },
      { valid: {}, bad: badRequestOptions, optional: true },
    ],
    'session:compact': [id, { valid: { keepRecentTokens: 0 }, bad: badCompactOptions, optional: true }],
    'session:cancelCompaction': [id],
    'session:clearMessages': [id, { valid: { decisions: [] }, bad: badClearOptions, optional: true }],
    'session:reset': [id],
    'session:export': [id],
    'session:archive': [id],
    'session:setContext': [id, { valid: { a: 1 }, bad: badPlainObject }],
    'session:setAgentDescription': [id, { valid: { role: 'Dev' }, bad: badDescription }],
    'session:getContext': [id],
    'session:getAgentDescription': [id],
    'session:recordChecks': [id, { valid: [{ checkId: 'tests', passed: true }], bad: badChecks }],
    'session:editCheckpoint': [id, { valid: { summary: { pending: ['next'] } }, bad: badEdit }],
    'session:recordDecision': [
      id,
      { valid: { kind: 'review', subject: 't1', approved: true }, bad: badDecision },
    ],
    'session:send': [
      id,
      { valid: 'next?', bad: () => badUserMessage(false) },
      { valid: { maxTokens: 100 }, bad: badSendOptions, optional: true },
    ],
    'session:getRecentMessages': [
      id,
      { valid: 5, bad: badLimit, optional: true },
      { valid: { includeInternal: true }, bad: badRecentOptions, optional: true },
    ],
    'session:getMetrics': [id],
    'session:getRuntimeMetrics': [],
    'session:migrate': [{ valid: { dryRun: true }, bad: badMigrateOptions, optional: true }],
  };
})();

/** Argument lists that no call may accept for `channel`: one bad argument, or a wrong count. */
function badCalls(channel: SessionChannel): fc.Arbitrary<unknown[]> {
  const params = PARAMS[channel];
  const valid = params.map((p) => p.valid);
  const required = params.filter((p) => !p.optional).length;
  const options: Arb[] = [
    fc.array(fc.anything(), { minLength: 1, maxLength: 3 }).map((extra) => [...valid, ...extra]),
  ];
  if (required > 0) options.push(fc.integer({ min: 0, max: required - 1 }).map((n) => valid.slice(0, n)));
  params.forEach((param, i) => {
    // The id may be well-formed but missing: then the other arguments are good ones.
    options.push(param.bad().map((bad) => [...valid.slice(0, i), bad, ...valid.slice(i + 1)]));
  });
  return fc.oneof(...options) as fc.Arbitrary<unknown[]>;
}

describe('handlers under generated bad arguments', () => {
  it('answer every call with a clear error, never throw, and write nothing', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    await runtime.createSession(EXISTING);
    await runtime.addMessage(EXISTING_ID, { role: 'user', content: 'first' });
    await runtime.getHistory(EXISTING_ID);
    const handlers = createSessionHandlers(runtime);
    const before = await snapshotDir(root);
    const codes = new Set<string>();

    for (const channel of SESSION_CHANNELS.filter((c) => c !== 'session:list')) {
      await fc.assert(
        fc.asyncProperty(badCalls(channel), async (args) => {
          let result: Awaited<ReturnType<(typeof handlers)[SessionChannel]>>;
          try {
            result = await handlers[channel](...args);
          } catch (error) {
            throw new Error(`${channel} threw instead of answering: ${String(error)}`);
          }
          expect(result.ok).toBe(false);
          if (result.ok) return;
          codes.add(result.error.code);
          if (process.env.SHOW_FUZZ)
            console.log(channel, result.error.code, result.error.message.slice(0, 300));
          expect(result.error.code).not.toBe('INTERNAL_ERROR');
          expect(['INVALID_ARGUMENT', 'INVALID_KEY', 'INVALID_MESSAGE', 'SESSION_NOT_FOUND']).toContain(
            result.error.code,
          );
          expect(result.error.message).toMatch(/^\[dagent-sessions\] \[\w+\] .{10,}/);
          expect(result.error.message.length).toBeLessThanOrEqual(1_100);
          expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
        }),
        { numRuns: 150 },
      );
      expect(await snapshotDir(root), `${channel} wrote under the root`).toEqual(before);
    }
    expect(await handlers['session:list']('extra')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(await snapshotDir(root)).toEqual(before);
    expect((await runtime.listSessions()).map((s) => s.id)).toEqual([EXISTING_ID]);
    expect(codes).toContain('SESSION_NOT_FOUND');
    // The host still works after all of it.
    expect((await handlers['session:getMessages'](EXISTING_ID)).ok).toBe(true);
    await runtime.close();
  });
});
