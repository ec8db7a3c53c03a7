/**
 * @internal The data the conformance suite writes: records, messages with every content block
 * and awkward unicode, checkpoints and segments that follow each other.
 */
import { sessionIdOf } from '../core/ids.js';
import type {
  ArchiveSegment,
  Checkpoint,
  ContentBlock,
  Message,
  SessionKey,
  SessionRecord,
} from '../core/types.js';

export const KEY: SessionKey = { type: 'feature', agentType: 'dev', featureId: 'conformance' };
export const ID = sessionIdOf(KEY);

export function keyOf(featureId: string): SessionKey {
  return { type: 'feature', agentType: 'dev', featureId };
}

export function recordOf(key: SessionKey = KEY, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    schemaVersion: 1,
    id: sessionIdOf(key),
    key,
    createdAt: '2026-01-02T03:04:05.000Z',
    updatedAt: '2026-01-02T03:04:05.000Z',
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
    ...extra,
  };
}

export function message(
  seq: number,
  content: Message['content'] = `message ${seq}`,
  extra: Partial<Message> = {},
): Message {
  return {
    id: `m-${seq}`,
    seq,
    role: seq % 2 === 0 ? 'user' : 'assistant',
    content,
    timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    tokens: 3 + (seq % 7),
    ...extra,
  };
}

export function messages(from: number, to: number): Message[] {
  return range(from, to).map((seq) => message(seq));
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** A checkpoint that commits segments 1..`segment` through `through` (`archived` messages, `tokens` each 5). */
export function checkpointOf(
  version: number,
  segment: number,
  through: number,
  archived: number,
): Checkpoint {
  return {
    version,
    createdAt: '2026-01-02T00:00:00.000Z',
    updatedAt: `2026-01-02T00:00:${String(version % 60).padStart(2, '0')}.000Z`,
    summary: {
      completed: [`step ${version}`],
      inProgress: [],
      pending: ['more'],
      decisions: ['keep it'],
      blockers: [],
    },
    compactionInfo: {
      compactor: 'conformance',
      messagesCompacted: 0,
      archivedThroughSeq: through,
      segment,
      tokensBefore: 1000,
      tokensAfter: 100,
      durationMs: 1,
      chunks: 1,
      escalation: 0,
      archivedMessages: archived,
      archivedTokens: archived * 5,
    },
    tokens: 40,
  };
}

export function segmentOf(segment: number, checkpointVersion: number, held: Message[]): ArchiveSegment {
  return {
    segment,
    checkpointVersion,
    createdAt: '2026-01-02T00:00:00.000Z',
    firstSeq: held[0]!.seq,
    lastSeq: held[held.length - 1]!.seq,
    messages: held,
  };
}

/** Text that exercises JSON escaping and UTF-8: emoji, RTL, combining marks, controls (no NUL). */
export const UNICODE = [
  'emoji 👩‍💻🚀🇫🇷 and a lone 🤖',
  'RTL: שלום עולם — مرحبا بالعالم \u200f mark',
  'combining: e\u0301 a\u0308 Z\u0335\u0321',
  `controls: ${Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')}\u007f`,
  'separators: \u2028 \u2029 "quotes" \\backslash\\ </script>',
  'astral: 𝄞 𠀋 \uFEFF bom',
];

export const EVERY_BLOCK: ContentBlock[] = [
  { type: 'text', text: UNICODE.join('\n') },
  { type: 'thinking', thinking: 'let me think… 🤔', signature: 'sig-abc123' },
  {
    type: 'tool_use',
    id: 'toolu_01',
    name: 'Read',
    input: { path: 'src/ünï.ts', lines: [1, 2], deep: { a: null, b: true, c: 1.5e-7 } },
  },
  { type: 'tool_result', tool_use_id: 'toolu_01', content: 'file contents\twith tab' },
  {
    type: 'tool_result',
    tool_use_id: 'toolu_01',
    content: [{ type: 'text', text: 'as blocks' }],
    is_error: true,
  },
];

/**
 * Deterministic strings of random code points (every plane, surrogate pairs whole, no NUL or
 * lone surrogate), so that a failure can be replayed: `seed` picks them.
 */
export function randomTexts(seed: number, count: number, maxLength = 40): string[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    const length = Math.floor(next() * maxLength);
    for (let j = 0; j < length; j++) {
      const plane = next();
      const code =
        plane < 0.5
          ? 0x20 + Math.floor(next() * 0x5f)
          : plane < 0.8
            ? 0x80 + Math.floor(next() * (0xd7ff - 0x80))
            : plane < 0.9
              ? 0xe000 + Math.floor(next() * (0xfffd - 0xe000))
              : 0x10000 + Math.floor(next() * 0xfffff);
      text += String.fromCodePoint(code);
    }
    texts.push(text);
  }
  return texts;
}
