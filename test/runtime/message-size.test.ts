/**
 * The per-message size limit: `maxMessageBytes` (default 16 MiB, the HTTP body limit) counts the
 * UTF-8 bytes of a message's text, content and metadata, keys included, and refuses a larger
 * message with `MESSAGE_TOO_LARGE` before anything is counted or written.
 */
import { describe, expect, it } from 'vitest';
import type { SessionError } from '../../src/core/errors.js';
import type { SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/runtime/validate.js';
import { snapshotDir, tempRoot } from '../helpers/temp-root.js';

const KEY: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'f1' };

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; message: string; details?: unknown }> {
  return promise.then(
    () => ({ message: 'no error' }),
    (e: unknown) => e as { code?: string; message: string },
  );
}

describe('maxMessageBytes', () => {
  it('refuses a message past 16 MiB by default, saying what to do, and writes nothing', async () => {
    const root = await tempRoot();
    const runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession(KEY);
    const before = await snapshotDir(root);
    const error = await errorOf(
      runtime.addMessage(id, { role: 'user', content: 'x'.repeat(DEFAULT_MAX_MESSAGE_BYTES + 1) }),
    );
    expect(error).toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      details: { maxBytes: DEFAULT_MAX_MESSAGE_BYTES },
    });
    expect(error.message).toMatch(/split it into several messages.*or raise maxMessageBytes/);
    expect(await snapshotDir(root)).toEqual(before);
    await runtime.close();
  });

  it(
    'counts UTF-8 bytes of content and metadata, ' +
      'keys included; send and buildRequest use the same limit',
    async () => {
      const runtime = await createSessionRuntime({ root: await tempRoot(), maxMessageBytes: 1_000 });
      const { id } = await runtime.createSession(KEY);
      await runtime.addMessage(id, { role: 'user', content: 'é'.repeat(500) }); // 1,000 bytes
      for (const message of [
        { role: 'user' as const, content: 'é'.repeat(500) + 'x' },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'a'.repeat(996) }] }, // + "type", "text"...
        { role: 'user' as const, content: 'a'.repeat(900), metadata: { note: 'b'.repeat(97) } },
      ])
        expect((await errorOf(runtime.addMessage(id, message))).code).toBe('MESSAGE_TOO_LARGE');
      expect((await errorOf(runtime.send(id, 'c'.repeat(1_001)))).code).toBe('MESSAGE_TOO_LARGE');
      expect((await errorOf(runtime.buildRequest(id, 'c'.repeat(1_001)))).code).toBe('MESSAGE_TOO_LARGE');
      expect(await runtime.getMessages(id)).toHaveLength(1);
      await runtime.close();
      for (const bad of [0, -1, 1.5, Number.NaN, '16MB'])
        expect(
          (await errorOf(createSessionRuntime({ root: await tempRoot(), maxMessageBytes: bad as number })))
            .code,
        ).toBe('INVALID_ARGUMENT');
    },
  );

  it('counts and compacts a message under the limit that is one unbroken word, and counts such a context', async () => {
    // A run of ten million letters overflowed the stack of the regex that finds long runs: the
    // message was stored at its byte bound, every compaction failed with a RangeError and
    // setContext threw one. Such a context is counted, and refused for its count (fixed-parts.test.ts).
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const { id } = await runtime.createSession(KEY);
    const word = 'b'.repeat(10_000_000);
    const compacted = new Promise<string>((resolve) => {
      runtime.subscribe((event) => {
        if (event.type === 'session.compaction.completed') resolve('completed');
        if (event.type === 'session.compaction.failed') resolve(`failed: ${event.reason}`);
      });
    });
    await runtime.addMessage(id, { role: 'user', content: word });
    expect(await compacted).toBe('completed');
    const [archived] = await runtime.getHistory(id);
    expect(archived?.content).toBe(word);
    const refused = await runtime.setContext(id, { projectNotes: word }).then(
      () => null,
      (error: unknown) => error as SessionError,
    );
    expect(refused?.code).toBe('INVALID_ARGUMENT');
    const counted = refused?.details['contextTokens'] as number;
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThan(word.length);
    await runtime.close();
  });
});
