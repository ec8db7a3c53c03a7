/**
 * The size of inline media, read from the base64 the Messages API carries: an image's width and
 * height from its header (PNG, JPEG, GIF, WebP), and how many bytes the base64 stands for. Only
 * the few bytes a header needs are decoded, so a 10 MB screenshot costs microseconds, not a copy.
 * Pure: no I/O, no image library.
 */

/** An image's format and pixel size, as its header says. */
export interface ImageSize {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  width: number;
  height: number;
}

/** @internal Reads bytes of decoded base64 on demand. */
interface ByteSource {
  /** Decoded length in bytes. */
  readonly length: number;
  /** Bytes `[offset, offset + count)`, fewer at the end of the data. */
  read(offset: number, count: number): Uint8Array;
}

/**
 * How many bytes base64 `data` decodes to (whitespace and padding not counted).
 *
 * @example base64Bytes('aGVsbG8=') // 5
 */
export function base64Bytes(data: string): number {
  let chars = data.length;
  if (/[^A-Za-z0-9+/_=-]/.test(data)) chars = data.replace(/[^A-Za-z0-9+/_-]/g, '').length;
  else while (chars > 0 && data.charCodeAt(chars - 1) === 61 /* = */) chars--;
  return Math.floor((chars * 3) / 4);
}

/**
 * @internal A lazy decoder of base64 without whitespace: each read decodes only the characters
 * that hold the bytes asked for.
 */
function lazyBase64(data: string): ByteSource {
  // From the length alone (no scan of a megabyte string): a header parser needs no more.
  let chars = data.length;
  while (chars > 0 && data.charCodeAt(chars - 1) === 61 /* = */) chars--;
  const length = Math.floor((chars * 3) / 4);
  return {
    length,
    read(offset, count) {
      const start = Math.max(0, offset);
      const end = Math.min(length, start + count);
      if (end <= start) return new Uint8Array(0);
      const first = Math.floor(start / 3);
      const last = Math.ceil(end / 3);
      const bytes = Buffer.from(data.slice(first * 4, last * 4), 'base64');
      return bytes.subarray(start - first * 3, end - first * 3);
    },
  };
}

/** @internal Every byte decoded at once (base64 with whitespace in it). */
function wholeBase64(data: string): ByteSource {
  const bytes = Buffer.from(data, 'base64');
  return { length: bytes.length, read: (offset, count) => bytes.subarray(offset, offset + count) };
}

/**
 * The format and pixel size of a base64-encoded image, from its header; null when the bytes are
 * not a PNG, JPEG, GIF or WebP this parser can read (the caller then counts a fallback).
 *
 * @param data - the image's base64 (the `data` of an image block's `base64` source).
 * @returns `{ format, width, height }`, or null.
 * @example
 * ```ts
 * imageSize(pngBase64); // { format: 'png', width: 800, height: 600 }
 * ```
 */
export function imageSize(data: string): ImageSize | null {
  if (typeof data !== 'string' || data.length < 8) return null;
  const size = readImageSize(lazyBase64(data));
  // Base64 with line breaks cannot be read lazily (offsets shift): decode it whole instead.
  return size ?? (/\s/.test(data.slice(0, 4096)) ? readImageSize(wholeBase64(data)) : null);
}

/** @internal The size from whichever header the first bytes announce. */
function readImageSize(source: ByteSource): ImageSize | null {
  const head = source.read(0, 30);
  if (head.length < 10) return null;
  const valid = (size: ImageSize | null): ImageSize | null =>
    size !== null && size.width > 0 && size.height > 0 ? size : null;
  if (head[0] === 0x89 && ascii(head, 1, 3) === 'PNG' && ascii(head, 12, 4) === 'IHDR' && head.length >= 24)
    return valid({ format: 'png', width: u32be(head, 16), height: u32be(head, 20) });
  if (ascii(head, 0, 4) === 'GIF8')
    return valid({ format: 'gif', width: u16le(head, 6), height: u16le(head, 8) });
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WEBP') return valid(webpSize(head));
  if (head[0] === 0xff && head[1] === 0xd8) return valid(jpegSize(source));
  return null;
}

/** @internal WebP: the first chunk says lossy (`VP8 `), lossless (`VP8L`) or extended (`VP8X`). */
function webpSize(head: Uint8Array): ImageSize | null {
  if (head.length < 30) return null;
  const chunk = ascii(head, 12, 4);
  if (chunk === 'VP8 ')
    return { format: 'webp', width: u16le(head, 26) & 0x3fff, height: u16le(head, 28) & 0x3fff };
  if (chunk === 'VP8L' && head[20] === 0x2f) {
    const bits = (head[21] ?? 0) | ((head[22] ?? 0) << 8) | ((head[23] ?? 0) << 16) | ((head[24] ?? 0) << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') return { format: 'webp', width: u24le(head, 24) + 1, height: u24le(head, 27) + 1 };
  return null;
}

/** JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they hold the size. */
const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** @internal JPEG: walks the marker segments (EXIF and ICC first, often) to the frame header. */
function jpegSize(source: ByteSource): ImageSize | null {
  let offset = 2;
  for (let segments = 0; segments < 10_000 && offset + 4 <= source.length; segments++) {
    const marker = source.read(offset, 4);
    if (marker[0] !== 0xff) return null;
    const code = marker[1] ?? 0;
    if (code === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (code === 0x01 || (code >= 0xd0 && code <= 0xd8)) {
      offset += 2; // markers without a length
      continue;
    }
    if (code === 0xd9 || code === 0xda) return null; // end of image, or scan data before any frame
    const length = u16be(marker, 2);
    if (length < 2) return null;
    if (SOF_MARKERS.has(code)) {
      const frame = source.read(offset + 5, 4);
      if (frame.length < 4) return null;
      return { format: 'jpeg', width: u16be(frame, 2), height: u16be(frame, 0) };
    }
    offset += 2 + length;
  }
  return null;
}

function ascii(bytes: Uint8Array, at: number, count: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + count));
}
function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}
function u24le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16);
}
function u16be(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}
function u32be(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}
