/**
 * @internal The store's CRC-32 (IEEE), in one place: zlib's (native, Node >= 20.15, 5-30x faster
 * than a loop in JavaScript) where Node has it, the same values from `src/core/crc32.ts`'s table
 * otherwise. Log records, JSON files and snapshots are all checked with it.
 */
import zlib from 'node:zlib';

type Crc = (data: Uint8Array | string, value?: number) => number;
const native = (zlib as { crc32?: Crc }).crc32;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function fallback(data: Uint8Array | string, value = 0): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = (TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
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
