/**
 * @internal CRC-32 (IEEE), to tell a complete log record from a torn or damaged one. The table
 * version, in plain JavaScript; the store uses zlib's native one where Node has it
 * (`src/store/checksum.ts`), with the same values.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** @internal CRC-32 of a byte string, continued from `value` (the CRC of the bytes before it; 0 to start). */
export function crc32Of(bytes: Uint8Array, value = 0): number {
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = (TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
}

/** @internal CRC-32 of a byte string, as 8 lower-case hex digits. */
export function crc32Hex(bytes: Uint8Array): string {
  return crc32Of(bytes).toString(16).padStart(8, '0');
}
