/**
 * A message field a slip away from an optional one (`idempotncyKey`, `idempotency_key`, `metdata`,
 * `timeStamp`) is refused with `INVALID_MESSAGE` naming the field meant. It was dropped without a
 * word: the retry of an append whose misspelt idempotency key was dropped stored the message twice.
 * Other names are let be, as before: a stored message given back (id, seq, tokens) and an SDK reply
 * (type, model, usage, stop_reason) are appended as they were.
 */
import { describe, expect, it } from 'vitest';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'f1' };
const asInput = (value: object) => value as unknown as MessageInput;

describe('a message field a slip away from an optional one', () => {
  it('is refused, naming the field meant, and nothing is written; a retry is stored once', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(KEY);
    const before = await snapshotDir(root);
    for (const [name, meant] of [
      ['idempotncyKey', 'idempotencyKey'],
      ['idempotency_key', 'idempotencyKey'],
      ['IdempotencyKey', 'idempotencyKey'],
      ['metdata', 'metadata'],
      ['timeStamp', 'timestamp'],
    ]) {
      const message = asInput({ role: 'user', content: 'Run the tests', [name!]: 'turn-7' });
      await expect(runtime.addMessage(id, message)).rejects.toMatchObject({
        code: 'INVALID_MESSAGE',
        message: expect.stringContaining(`"${name}" is not a field of a message; did you mean "${meant}"?`),
      });
    }
    expect(await snapshotDir(root)).toEqual(before);

    const retried = { role: 'user' as const, content: 'Run the tests', idempotencyKey: 'turn-7' };
    const first = await runtime.addMessage(id, retried);
    const second = await runtime.addMessage(id, retried);
    expect(second.id).toBe(first.id);
    expect(await runtime.getHistory(id)).toHaveLength(1);
    await runtime.close();
  });

  it('lets other names be: a stored message given back and an SDK reply are appended', async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession(KEY);
    const stored = await runtime.addMessage(id, { role: 'user', content: 'Run the tests' });
    await runtime.addMessage(id, stored);
    await runtime.addMessage(
      id,
      asInput({
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: '12 passed' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 3 },
        context: 'a host field',
        timestamp_ms: 1,
      }),
    );
    const history = await runtime.getHistory(id, { order: 'asc' });
    expect(history.map((m) => [m.seq, m.content])).toEqual([
      [0, 'Run the tests'],
      [1, 'Run the tests'],
      [2, [{ type: 'text', text: '12 passed' }]],
    ]);
    await runtime.close();
  });
});
