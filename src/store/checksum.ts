/**
 * @internal The store's CRC-32 (IEEE), in one place: zlib's (native, Node >= 20.15, 5-30x faster
 * than a loop in JavaScript) where Node has it, the same values from `src/core/crc32.ts`'s table
 * otherwise. Log records, JSON files and snapshots are all checked with it.
 */
import zlib from 'node:zlib';
import { crc32Of } from '../core/crc32.js';

type Crc = (data: Uint8Array | string, value?: number) => number;
const native = (zlib as { crc32?: Crc }).crc32;

function fallback(data: Uint8Array | string, value = 0): number {
  return crc32Of(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, value);
}

/**
 * @internal CRC-32 of `data` (a string counts as its UTF-8 bytes), continued from `value` (the CRC
 * of the bytes before it; 0 to start).
 */
export const crc32: (data: Uint8Array | string, value?: number) => number = native
  ? (data, value = 0) => native(data, value) >>> 0
  : fallback;

/** @internal A CRC-32 as 8 lower-case hex digits. */
export function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** @internal CRC-32 of `data`'s bytes (a string: its UTF-8 bytes), as 8 lower-case hex digits. */
export function crc32Hex(data: Uint8Array | string): string {
  return hex8(crc32(data));
}
