import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { getEncoder, type TokenEncoder, type TokenEncoding } from '../../src/tokens/encoding-cache.js';
import { countExact } from '../../src/tokens/exact-count.js';

// The encoder counts with gpt-tokenizer (bom-count.ts for text holding U+FEFF); the counts must be
// js-tiktoken's, which is what every count persisted so far was taken with.
const require = createRequire(import.meta.url);
const tiktoken = {
  cl100k_base: new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE),
  o200k_base: new Tiktoken(require('js-tiktoken/ranks/o200k_base') as TiktokenBPE),
};
const reference = (encoding: TokenEncoding): TokenEncoder => ({
  encoding,
  count: (text) => tiktoken[encoding].encode(text, [], []).length,
});

const TRANSCRIPTS =
  process.env['DAGENT_TRANSCRIPTS'] ??
  fileURLToPath(new URL('../../../shared/transcripts/', import.meta.url));
const hasTranscripts = existsSync(TRANSCRIPTS);

// Characters where tokenizers' pre-tokenising regular expressions tend to differ.
const TRICKY = [
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\u200b',
  '\u1680',
  '\u180e',
  '\u0085',
  '\v',
  '\f',
  'a',
  'Z',
  'e\u0301',
  'ß',
  'İ',
  'ı',
  'ǅ',
  'ﬁ',
  '日',
  'ש',
  'ا',
  '\u0915\u094d',
  '😀',
  '👍🏽',
  '𝒜',
  '1',
  '22',
  '٣',
  '½',
  'Ⅻ',
  "'s",
  "'LL",
  '.',
  '-',
  '"',
  '\\',
  '<|endoftext|>',
  '<|fim_prefix|>',
  '\u0000',
  '\ud800',
  '\udc00',
  '\u00ad',
  '\ufffd',
  '²',
];
const texts = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 30 }).map((parts) => parts.join('')),
);

describe('getEncoder', () => {
  it.each(['cl100k_base', 'o200k_base'] as const)(
    'counts %s exactly as js-tiktoken on generated text (unicode, lone surrogates, BOMs, special tokens)',
    (encoding) => {
      const encoder = getEncoder(encoding);
      const expected = reference(encoding);
      fc.assert(
        fc.property(texts, (text) => {
          expect(encoder.count(text)).toBe(expected.count(text));
        }),
        { numRuns: 3_000 },
      );
    },
  );

  it.each(['cl100k_base', 'o200k_base'] as const)(
    'counts %s text holding byte order marks as js-tiktoken does, merges through them included',
    (encoding) => {
      // A BOM before the words and signs that start files (tokens such as "\ufeffimport" exist).
      const parts = fc.constantFrom(
        ...TRICKY,
        '\ufeff',
        '\ufeff\ufeff',
        ' \ufeff',
        '\ufeff ',
        '\ufeffimport',
        '\ufeffusing',
        '\ufeff#',
        '\ufeff<?xml',
        '\ufeff{',
        '\ufeffname',
        '\ufeff//',
        '\ufeff2025-06-27',
        'import',
        'package',
        '\r\n',
      );
      const withBom = fc
        .tuple(fc.array(parts, { maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }))
        .map(([list, tail]) => `${list.join('')}\ufeff${tail}`);
      const encoder = getEncoder(encoding);
      const expected = reference(encoding);
      fc.assert(
        fc.property(withBom, (text) => {
          expect(encoder.count(text)).toBe(expected.count(text));
        }),
        { numRuns: 2_000 },
      );
    },
  );

  it('counts text holding a byte order mark as js-tiktoken does (gpt-tokenizer alone counts one more)', async () => {
    const text = 'Run actions/checkout@v4\t\ufeff2025-06-27T12:18:07.1114290Z ##[group]Run';
    const gpt = (await import('gpt-tokenizer/encoding/cl100k_base')).countTokens(text, {
      disallowedSpecial: new Set<string>(),
    });
    const expected = reference('cl100k_base').count(text);
    expect(gpt).toBe(expected + 1);
    expect(getEncoder('cl100k_base').count(text)).toBe(expected);
  });

  it.skipIf(!hasTranscripts)(
    'gives the counts of js-tiktoken on every message of the real transcripts',
    () => {
      const encoder = getEncoder('cl100k_base');
      const expected = reference('cl100k_base');
      let messages = 0;
      const differing: string[] = [];
      for (const file of readdirSync(TRANSCRIPTS).filter((name) => name.endsWith('.json'))) {
        const transcript = JSON.parse(readFileSync(`${TRANSCRIPTS}/${file}`, 'utf8')) as {
          messages: { content: unknown }[];
        };
        for (const [index, message] of transcript.messages.entries()) {
          const text =
            typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
          messages++;
          if (countExact(encoder, text) !== countExact(expected, text)) differing.push(`${file}#${index}`);
        }
      }
      expect(messages).toBeGreaterThan(1_000);
      expect(differing).toEqual([]);
    },
  );
});
