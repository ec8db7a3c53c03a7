/**
 * The append path's encoding, made cheaper: a batch of log records encoded into one buffer
 * (`encodeRecords`) must be byte for byte what the record format says (length, CRC-32 of the
 * UTF-8 bytes, newline) and must replay to the same messages, whatever the text (every plane of
 * Unicode, lone surrogates, escapes, batches past the worst-case buffer); and the store's copy of
 * a caller's message (`frozenCopy`) must be a frozen deep copy equal to `structuredClone`'s,
 * leaving what is not plain data to `structuredClone` itself (`mutableCopy`: the same walk,
 * unfrozen, for a built request the caller may change).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Of } from '../../src/core/crc32.js';
import type { Message } from '../../src/core/types.js';
import { crc32, crc32Hex } from '../../src/store/checksum.js';
import { countText, encodeRecords, recordText, replayLog } from '../../src/store/chat-log-format.js';
import { frozenCopy, isDeepFrozen, mutableCopy } from '../../src/store/freeze.js';

/** The record format, written out the slow and obvious way. */
function reference(json: string): Buffer {
  const bytes = Buffer.from(json, 'utf8');
  const header = `+${bytes.length.toString(16).padStart(8, '0')} ${crc32Hex(bytes)} `;
  return Buffer.concat([Buffer.from(header, 'latin1'), bytes, Buffer.from('\n')]);
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }), // lone surrogates too
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u2028', 'é', '😀', 'a'), maxLength: 300 }),
);

const messageOf = (seq: number, content: string): Message => ({
  id: `m-${seq}`,
  seq,
  role: seq % 2 === 0 ? 'user' : 'assistant',
  content,
  timestamp: '2026-01-01T00:00:00.000Z',
  tokens: content.length,
});

describe('encodeRecords', () => {
  it('writes every record of a batch exactly as the format says, and the batch replays to its messages', () => {
    fc.assert(
      fc.property(
        fc.array(text, { maxLength: 30 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        (texts, flags) => {
          const messages = texts.map((t, i) => messageOf(i, t));
          const jsons = messages.map((m, i) => recordText(m, flags[i] ?? false));
          const encoded = encodeRecords(jsons);
          expect(encoded.equals(Buffer.concat(jsons.map(reference)))).toBe(true);
          const replay = replayLog(encoded);
          expect(replay.records).toBe(messages.length);
          expect(replay.damagedAt).toBeNull();
          expect(replay.messages.map((m) => m.content)).toEqual(
            jsons.map((j) => (JSON.parse(j) as Message).content),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes a batch past the worst-case buffer (measured texts) byte for byte the same', () => {
    const big = 'é😀"\\\n'.repeat(300_000); // 2.4 MB of characters, ~5.7 MB of JSON bytes
    const jsons = [
      recordText(messageOf(0, big), false),
      countText([[0, 5]]),
      recordText(messageOf(1, 'x'), true),
    ];
    expect(encodeRecords(jsons).equals(Buffer.concat(jsons.map(reference)))).toBe(true);
  });

  it("takes the store's CRC-32 over strings as their UTF-8 bytes, continued across pieces", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const whole = Buffer.from(a + b, 'utf8');
        expect(crc32(a + b)).toBe(crc32(whole));
        expect(crc32(Buffer.from(b, 'utf8'), crc32(Buffer.from(a, 'utf8')))).toBe(crc32(whole));
      }),
    );
    expect(crc32Hex('123456789')).toBe('cbf43926'); // the CRC-32 check value
  });

  it("gives zlib's values from the JavaScript table too (the fallback where Node has no zlib.crc32)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const whole = Buffer.concat([a, b]);
        expect(crc32Of(whole)).toBe(crc32(whole));
        expect(crc32Of(b, crc32Of(a))).toBe(crc32(whole));
      }),
    );
  });
});

describe('frozenCopy', () => {
  it('gives plain data back deep-equal to structuredClone, frozen, and shares no object with its input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = frozenCopy(value);
        expect(copy).toStrictEqual(structuredClone(value));
        expect(isDeepFrozen(copy)).toBe(true);
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('copies an own "__proto__" key as a key, and leaves a Date, a cycle and a hole to structuredClone', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = frozenCopy(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    const at = new Date(0);
    expect(frozenCopy({ at }).at).toEqual(at);
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    const copied = frozenCopy(cycle);
    expect(copied.self).toBe(copied);
    const holes = frozenCopy([1, , 3]); // eslint-disable-line no-sparse-arrays
    expect(1 in holes).toBe(false);
    const tagged = Object.assign([1, 2], { tag: 'kept' });
    expect(frozenCopy(tagged)).toStrictEqual(structuredClone(tagged));
    expect(() => frozenCopy({ f: () => 1 })).toThrow(); // refused, as structuredClone refuses it
  });
});

describe('mutableCopy', () => {
  it("gives plain data back deep-equal to structuredClone, the caller's to change, sharing no object", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = mutableCopy(value);
        expect(copy).toStrictEqual(structuredClone(value));
        if (typeof value === 'object' && value !== null) {
          expect(copy).not.toBe(value);
          expect(Object.isFrozen(copy)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
    const frozen = frozenCopy({ blocks: [{ type: 'text', text: 'hi' }] });
    const copy = mutableCopy(frozen);
    copy.blocks[0]!.text = 'changed'; // a frozen input gives a copy that can be changed
    expect(frozen.blocks[0]!.text).toBe('hi');
    const at = new Date(0);
    expect(mutableCopy({ at }).at).toEqual(at);
    expect(() => mutableCopy({ f: () => 1 })).toThrow();
  });
});
