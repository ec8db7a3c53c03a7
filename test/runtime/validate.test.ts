/**
 * What `validateMessageInput` refuses, and how it names the place: the walk builds a problem's path
 * only when there is one, and measures text only once the size limit could be passed, so these pin
 * the messages and the counted bytes callers see.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonProblem, validateMessageInput } from '../../src/runtime/validate.js';

function errorOf(run: () => unknown): { code?: string; message: string; details?: unknown } {
  try {
    run();
  } catch (error) {
    return error as { code?: string; message: string; details?: unknown };
  }
  return { message: 'no error' };
}

/** `levels` objects nested in one another, with `leaf` at the bottom. */
function nested(levels: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

describe('validateMessageInput', () => {
  it('names the path of the first problem in content and metadata', () => {
    const cyclic: Record<string, unknown> = { x: 1 };
    cyclic.self = { back: cyclic };
    class Thing {}
    const cases: [unknown, string][] = [
      [
        { role: 'user', content: 'hi', metadata: { a: { b: [1, 2, NaN] } } },
        'metadata.a.b[2] is NaN, which JSON',
      ],
      [
        { role: 'user', content: [{ type: 'tool_use', id: 't', name: 'n', input: cyclic }] },
        'content[0].input.self.back refers back to itself (a cycle)',
      ],
      [{ role: 'user', content: 'hi', metadata: { when: new Thing() } }, 'metadata.when is a class instance'],
      [
        { role: 'user', content: 'hi', metadata: { f: [() => 1] } },
        'metadata.f[0] is a function, which JSON',
      ],
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'tool_use', id: '', name: 'n' },
          ],
        },
        'content[1] is a tool_use block without a string "id"',
      ],
      [
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text' }] }] },
        'content[0].content[0] is a text block without a string (possibly empty) "text"',
      ],
      [{ role: 'user', content: 'hi', metadata: { u: [undefined] } }, 'metadata.u[0] is a undefined'],
      [
        { role: 'user', content: 'hi', metadata: JSON.parse('{"x":{"__proto__":1}}') as unknown },
        'metadata.x has a "__proto__" key',
      ],
      [
        { role: 'user', content: 'hi', metadata: nested(65, 'deep') },
        `metadata${'.a'.repeat(65)} is nested more than 64 levels deep`,
      ],
    ];
    for (const [input, message] of cases) {
      const error = errorOf(() => validateMessageInput(input));
      expect(error.code, message).toBe('INVALID_MESSAGE');
      expect(error.message).toContain(message);
    }
    expect(() =>
      validateMessageInput({ role: 'user', content: 'hi', metadata: nested(64, 'ok') }),
    ).not.toThrow();
    // The same walk, for other arguments; the same object twice (not a cycle) is fine.
    const shared = { s: 1 };
    expect(jsonProblem({ a: shared, b: [shared, shared] })).toBeNull();
    expect(jsonProblem({ a: [{ b: Infinity }] }, 'context')).toBe(
      'context.a[0].b is Infinity, which JSON cannot hold',
    );
  });

  it('counts the exact UTF-8 bytes of text and keys against the limit, however the text is made', () => {
    // 3 bytes a character: 10 of them are 30 bytes, and "content" holds no key.
    expect(() =>
      validateMessageInput({ role: 'user', content: '€'.repeat(10) }, { maxBytes: 30 }),
    ).not.toThrow();
    const over = errorOf(() =>
      validateMessageInput({ role: 'user', content: '€'.repeat(11) }, { maxBytes: 30 }),
    );
    expect(over).toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { maxBytes: 30, countedBytes: 33 } });
    // ASCII under a limit its 3-byte bound passes: accepted, then refused at the string that passes it.
    const metadata = { k: 'x'.repeat(10), l: 'y'.repeat(10) };
    expect(() =>
      validateMessageInput({ role: 'user', content: 'abcd', metadata }, { maxBytes: 26 }),
    ).not.toThrow();
    const late = errorOf(() =>
      validateMessageInput({ role: 'user', content: 'abcd', metadata }, { maxBytes: 25 }),
    );
    expect(late).toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { countedBytes: 26 } });
    const early = errorOf(() =>
      validateMessageInput({ role: 'user', content: 'abcd', metadata }, { maxBytes: 14 }),
    );
    expect(early).toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { countedBytes: 15 } });
  });

  it('refuses exactly the messages whose text passes the limit, and counts where it stops', () => {
    const texts = fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 120 }), (parts, max) => {
        const blocks = parts.map((text) => ({ type: 'text', text }));
        const input = { role: 'user', content: blocks };
        // Walk order: each block's keys and strings, "type" then "text".
        let counted = 0;
        let stop: number | null = null;
        for (const text of parts) {
          for (const piece of ['type', 'text', 'text', text]) {
            counted += Buffer.byteLength(piece, 'utf8');
            if (stop === null && counted > max) stop = counted;
          }
        }
        const error = errorOf(() => validateMessageInput(input, { maxBytes: max }));
        if (stop === null) expect(error.message).toBe('no error');
        else expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE', details: { countedBytes: stop } });
      }),
      { numRuns: 300 },
    );
  });

  it('returns the fields in their order, copied and frozen', () => {
    const input = {
      idempotencyKey: 'k-1',
      timestamp: '2026-01-01T00:00:00.000Z',
      metadata: { tag: ['a'] },
      content: [{ type: 'text', text: 'hi' }],
      role: 'user',
    };
    const message = validateMessageInput(input);
    expect(Object.keys(message)).toEqual(['role', 'content', 'metadata', 'timestamp', 'idempotencyKey']);
    expect(message).toEqual({ ...input });
    expect(message.content).not.toBe(input.content);
    expect(Object.isFrozen(message.content) && Object.isFrozen(message.metadata!.tag)).toBe(true);
    expect(Object.keys(validateMessageInput({ content: 'x', role: 'assistant' }))).toEqual([
      'role',
      'content',
    ]);
  });
});
