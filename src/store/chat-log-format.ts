/**
 * @internal The records of `chat.log`, and the rule that tells a torn write from damage.
 *
 * A record is `+<length> <crc> <json>\n`: a `+`, the byte length of the JSON as 8 hex digits, a
 * space, the CRC-32 of the JSON as 8 hex digits, a space, the message as JSON (which never holds a
 * raw newline), a newline. Logs written before the length was added hold `<crc> <json>\n` records;
 * they are still read, and new records are appended after them.
 *
 * The rule: a record is acknowledged only after its fdatasync, and nothing is written after a
 * record until it is acknowledged (or its failed write was cut off). So only the last record can be
 * torn, and a torn record is always *incomplete*: fewer bytes than its header declares, or a header
 * cut short, with no newline in what is there. A *complete* record that fails its checks (CRC,
 * newline where its length ends, JSON) was fully written and synced, then changed: that is damage,
 * wherever it is, and so is anything that is not a record (zeros, garbage). Damage is never dropped
 * or cut off; the log is set aside and `CORRUPT_FILE` reported.
 */
import { textTokenBound } from '../core/token-bound.js';
import type { Message } from '../core/types.js';
import { isTokenCount } from './archive-rules.js';
import { crc32, crc32Hex } from './checksum.js';

const NEWLINE = 0x0a;
const PLUS = 0x2b;
const SPACE = 0x20;
/** `+llllllll cccccccc `: marker, length, space, CRC, space. */
const HEADER_BYTES = 19;

/** @internal Encodes one log record. */
export function encodeRecord(message: Message): Buffer {
  return encodeRecords([recordText(message, false)]);
}

/**
 * @internal Encodes the record of a message whose exact count is not known yet: without `tokens`
 * (its `tokens` in memory is an upper bound); a count record written later carries the count.
 */
export function encodeUncountedRecord(message: Message): Buffer {
  return encodeRecords([recordText(message, true)]);
}

/**
 * @internal Encodes a count record: the exact counts of messages written before it without theirs,
 * `{"counts":[[seq,tokens],...]}`.
 */
export function encodeCountRecord(counts: readonly (readonly [seq: number, tokens: number])[]): Buffer {
  return encodeRecords([countText(counts)]);
}

/** @internal The JSON of a message's record; `uncounted`: written without its `tokens`. */
export function recordText(message: Message, uncounted: boolean): string {
  return JSON.stringify(uncounted ? withoutTokens(message) : message);
}

/**
 * @internal The records of an append in one buffer: the count record first (when `counts` holds
 * any), then one per message, those in `uncounted` without `tokens`. Their JSON texts live only in
 * here: the caller holds the buffer while it is written, not the strings.
 */
export function encodeAppend(
  messages: readonly Message[],
  uncounted: ReadonlySet<number>,
  counts: readonly (readonly [seq: number, tokens: number])[],
): Buffer {
  const texts = counts.length > 0 ? [countText(counts)] : [];
  for (const m of messages) texts.push(recordText(m, uncounted.has(m.seq)));
  return encodeRecords(texts);
}

/** @internal The JSON of a count record. */
export function countText(counts: readonly (readonly [seq: number, tokens: number])[]): string {
  return JSON.stringify({ counts });
}

/** @internal A message as written when its count is not known yet. */
export function withoutTokens(message: Message): Omit<Message, 'tokens'> {
  const { tokens: _tokens, ...rest } = message;
  return rest;
}

/** Up to this many bytes, a batch is encoded into a buffer sized for the worst case (3 bytes per char). */
const WORST_CASE_BYTES = 4 * 1024 * 1024;

/**
 * @internal Encodes records of the given JSON texts, one after another, into one buffer: each text
 * is encoded to UTF-8 once, straight into its place, and its CRC taken over those bytes. (An append
 * of a burst is one allocation, not three per record.)
 */
export function encodeRecords(texts: readonly string[]): Buffer {
  let worst = 0;
  for (const text of texts) worst += HEADER_BYTES + 3 * text.length + 1;
  // A small batch skips measuring each text first: a buffer for the worst case, cut to size.
  const lengths = worst <= WORST_CASE_BYTES ? null : texts.map((text) => Buffer.byteLength(text, 'utf8'));
  let total = 0;
  if (lengths !== null) for (const length of lengths) total += HEADER_BYTES + length + 1;
  const out = Buffer.allocUnsafe(lengths === null ? worst : total);
  let offset = 0;
  for (const [i, text] of texts.entries()) {
    const start = offset + HEADER_BYTES;
    const room = lengths === null ? out.length - start : lengths[i]!;
    const written = out.write(text, start, room, 'utf8');
    if (lengths !== null && written !== room) throw new Error('a log record was not encoded whole');
    const end = start + written;
    out[offset] = PLUS;
    putHex8(out, offset + 1, written);
    out[offset + 9] = SPACE;
    putHex8(out, offset + 10, crc32(out.subarray(start, end)));
    out[offset + 18] = SPACE;
    out[end] = NEWLINE;
    offset = end + 1;
  }
  return lengths === null ? out.subarray(0, offset) : out;
}

/** The bytes of `0`-`9`, `a`-`f`. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Writes `value` as 8 lower-case hex digits at `at` (as checksum.ts's `hex8` spells it, with no string made). */
function putHex8(out: Buffer, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    out[at + i] = HEX_DIGITS[value & 0xf]!;
    value >>>= 4;
  }
}

/** @internal What a log holds. */
export interface Replay {
  /** Its messages; those written before their count hold no `tokens` (see `counts`). */
  messages: Message[];
  /** Counts of count records, by seq: the counts of messages written without theirs. */
  counts: Map<number, number>;
  /**
   * Seqs of messages written without `tokens` and with no count record: their `tokens` holds the
   * upper bound (`textTokenBound`) until they are counted again.
   */
  uncounted: Set<number>;
  /** Bytes of the log up to the end of its last good record. */
  goodBytes: number;
  records: number;
  /** 1 when the log ends with an incomplete record (a torn write), else 0. */
  torn: number;
  /** Index of the first damaged record (= the number of good records before it), or null. */
  damagedAt: number | null;
  /** Byte offset where the damage starts, or null. */
  damagedAtByte: number | null;
  /** What is wrong at `damagedAtByte`. */
  damage: string | null;
}

/** One step of the scan: a good record, the end of a torn tail, or damage. */
type Step =
  | { kind: 'record'; message: Message; end: number }
  | { kind: 'counts'; counts: [number, number][]; end: number }
  | { kind: 'torn' }
  | { kind: 'damaged'; reason: string };

/** @internal Parses a log buffer; pure, so that it can be tested byte by byte. */
export function replayLog(buffer: Buffer): Replay {
  const messages: Message[] = [];
  const counts = new Map<number, number>();
  let records = 0;
  let offset = 0;
  while (offset < buffer.length) {
    const step = buffer[offset] === PLUS ? readRecord(buffer, offset) : readLegacyRecord(buffer, offset);
    if (step.kind === 'record' || step.kind === 'counts') {
      if (step.kind === 'record') messages.push(step.message);
      else for (const [seq, tokens] of step.counts) counts.set(seq, tokens);
      records++;
      offset = step.end;
      continue;
    }
    const damaged = step.kind === 'damaged';
    return withCounts({
      messages,
      counts,
      goodBytes: offset,
      records,
      torn: damaged ? 0 : 1,
      damagedAt: damaged ? records : null,
      damagedAtByte: damaged ? offset : null,
      damage: damaged ? step.reason : null,
    });
  }
  return withCounts({
    messages,
    counts,
    goodBytes: offset,
    records,
    torn: 0,
    damagedAt: null,
    damagedAtByte: null,
    damage: null,
  });
}

/** Gives each message written without its count the count of its count record, else its bound. */
function withCounts(replay: Omit<Replay, 'uncounted'>): Replay {
  const uncounted = new Set<number>();
  for (const [i, m] of replay.messages.entries()) {
    if (m.tokens !== undefined) continue;
    const tokens = replay.counts.get(m.seq);
    if (tokens === undefined) uncounted.add(m.seq);
    replay.messages[i] = { ...m, tokens: tokens ?? textTokenBound(m.content) ?? 0 };
  }
  return { ...replay, uncounted };
}

function readRecord(buffer: Buffer, offset: number): Step {
  const available = buffer.length - offset;
  const header = buffer.subarray(offset, offset + Math.min(available, HEADER_BYTES));
  if (!isHeaderPrefix(header)) return { kind: 'damaged', reason: 'a record header that does not parse' };
  if (available < HEADER_BYTES) return { kind: 'torn' }; // a header cut short (it holds no newline)
  const length = parseInt(header.toString('latin1', 1, 9), 16);
  const end = offset + HEADER_BYTES + length + 1;
  if (end > buffer.length) {
    // Incomplete: a write cut short has no newline yet; a newline means the length was changed.
    return hasNewline(buffer, offset)
      ? { kind: 'damaged', reason: 'a record whose newline is not where its length says' }
      : { kind: 'torn' };
  }
  if (buffer[end - 1] !== NEWLINE)
    return { kind: 'damaged', reason: 'a complete record without its newline where its length ends' };
  const json = buffer.subarray(offset + HEADER_BYTES, end - 1);
  if (crc32Hex(json) !== header.toString('latin1', 10, 18))
    return { kind: 'damaged', reason: 'a complete record whose checksum does not match' };
  return parseRecord(json, end);
}

/** A message record, or a count record (only in the length-prefixed format). */
function parseRecord(json: Buffer, end: number): Step {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    return { kind: 'damaged', reason: 'a complete record that is not a message' };
  }
  if (typeof value === 'object' && value !== null && 'counts' in value) {
    const counts = (value as { counts: unknown }).counts;
    return Array.isArray(counts) && counts.every(isCount)
      ? { kind: 'counts', counts: counts as [number, number][], end }
      : { kind: 'damaged', reason: 'a complete count record that does not parse' };
  }
  return typeof value === 'object' && value !== null && typeof (value as Message).seq === 'number'
    ? { kind: 'record', message: value as Message, end }
    : { kind: 'damaged', reason: 'a complete record that is not a message' };
}

/**
 * One `[seq, tokens]` of a count record: the tokens by the stores' rule ({@link isTokenCount}); the
 * seq any integer, looser than the `seq >= 0` a store takes now (`countsProblem`, archive-rules.ts),
 * because before that check a count for an uncounted seq never appended (-1) could be written, and
 * a load must still read it (it matches no message and is ignored).
 */
function isCount(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && Number.isInteger(value[0]) && isTokenCount(value[1]);
}

/** A record of the first format, `<crc> <json>\n`: complete once its newline is there. */
function readLegacyRecord(buffer: Buffer, offset: number): Step {
  const newline = buffer.indexOf(NEWLINE, offset);
  const line = buffer.subarray(offset, newline === -1 ? buffer.length : newline);
  const prefix = line.subarray(0, 9);
  const wellFormed = prefix.every((byte, i) => (i === 8 ? byte === SPACE : isHexDigit(byte)));
  if (!wellFormed) return { kind: 'damaged', reason: 'bytes that are not a record' };
  if (newline === -1) return { kind: 'torn' };
  const json = line.subarray(9);
  if (line.length < 10 || crc32Hex(json) !== line.toString('latin1', 0, 8))
    return { kind: 'damaged', reason: 'a complete record whose checksum does not match' };
  const message = parseMessage(json);
  return message === null
    ? { kind: 'damaged', reason: 'a complete record that is not a message' }
    : { kind: 'record', message, end: newline + 1 };
}

/** Whether `bytes` are a header, or the start of one: `+`, 8 hex digits, space, 8 hex digits, space. */
function isHeaderPrefix(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const ok = i === 0 ? byte === PLUS : i === 9 || i === 18 ? byte === SPACE : isHexDigit(byte);
    if (!ok) return false;
  }
  return true;
}

function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);
}

function hasNewline(buffer: Buffer, offset: number): boolean {
  return buffer.indexOf(NEWLINE, offset) !== -1;
}

function parseMessage(json: Buffer): Message | null {
  try {
    const value = JSON.parse(json.toString('utf8')) as Message;
    return typeof value === 'object' && value !== null && typeof value.seq === 'number' ? value : null;
  } catch {
    return null;
  }
}
