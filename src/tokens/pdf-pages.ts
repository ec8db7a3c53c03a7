/**
 * How many pages a PDF has, read from its bytes without a PDF library: the `/Count` of its page
 * tree (the largest, when incremental updates left several), looked for in the file and, for PDFs
 * that pack their objects into compressed object streams (PDF 1.5 and later), in those streams
 * too (inflated with node:zlib). Counting leaf `/Type /Page` objects is the last resort.
 */
import { inflateSync } from 'node:zlib';

const PAGES_RE = /\/Type\s*\/Pages(?![A-Za-z0-9])/g;
const PAGE_RE = /\/Type\s*\/Page(?![A-Za-z0-9])/g;
const COUNT_RE = /\/Count\s+(\d+)/;
const OBJECT_STREAM_RE = /\/Type\s*\/ObjStm(?![A-Za-z0-9])/g;
/** Object streams inflated at most, and bytes inflated at most per stream (a bound on the work). */
const MAX_STREAMS = 256;
const MAX_INFLATED = 8 * 1024 * 1024;

/**
 * The number of pages of a PDF, or null when its bytes do not look like a PDF or hold no page tree
 * this reader finds (an encrypted or damaged file): the caller then counts a fallback.
 *
 * @param bytes - the PDF's bytes (the decoded `data` of a document block's base64 source).
 * @returns the page count (at least 1), or null.
 * @example
 * ```ts
 * pdfPageCount(Buffer.from(documentBlock.source.data, 'base64')); // 12
 * ```
 */
export function pdfPageCount(bytes: Uint8Array): number | null {
  if (bytes.length < 8) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const header = text.indexOf('%PDF-');
  if (header < 0 || header > 1024) return null; // readers allow some bytes before the header
  const direct = treeCount(text);
  if (direct !== null) return direct;
  const packed = objectStreams(text);
  for (const stream of packed) {
    const count = treeCount(stream);
    if (count !== null) return count;
  }
  const leaves = [text, ...packed].reduce((sum, part) => sum + (part.match(PAGE_RE)?.length ?? 0), 0);
  return leaves > 0 ? leaves : null;
}

/** @internal The largest `/Count` of a `/Type /Pages` dictionary in `text`, or null. */
function treeCount(text: string): number | null {
  let best: number | null = null;
  for (const match of text.matchAll(PAGES_RE)) {
    const dict = enclosingDict(text, match.index);
    const count = dict === null ? undefined : COUNT_RE.exec(text.slice(dict.start, dict.end))?.[1];
    if (count !== undefined) best = Math.max(best ?? 0, Number(count));
  }
  return best !== null && best > 0 ? best : null;
}

/** @internal Where the `<< ... >>` dictionary around position `at` starts and ends, or null. */
function enclosingDict(text: string, at: number): { start: number; end: number } | null {
  let depth = 0;
  let start = -1;
  for (let i = at; i > 0 && at - i < 1_000_000; i--) {
    if (text[i] === '>' && text[i - 1] === '>') {
      depth++;
      i--;
    } else if (text[i] === '<' && text[i - 1] === '<') {
      if (depth === 0) {
        start = i - 1;
        break;
      }
      depth--;
      i--;
    }
  }
  if (start < 0) return null;
  depth = 0;
  for (let i = start; i < text.length - 1 && i - start < 1_000_000; i++) {
    if (text[i] === '<' && text[i + 1] === '<') {
      depth++;
      i++;
    } else if (text[i] === '>' && text[i + 1] === '>') {
      depth--;
      i++;
      if (depth === 0) return { start, end: i + 1 };
    }
  }
  return null;
}

/** @internal The inflated content of the object streams of a PDF (each as latin1 text). */
function objectStreams(text: string): string[] {
  const streams: string[] = [];
  for (const match of text.matchAll(OBJECT_STREAM_RE)) {
    if (streams.length >= MAX_STREAMS) break;
    const dict = enclosingDict(text, match.index);
    if (dict === null) continue;
    const keyword = text.indexOf('stream', dict.end);
    if (keyword < 0 || keyword - dict.end > 16) continue;
    let begin = keyword + 'stream'.length;
    if (text[begin] === '\r') begin++;
    if (text[begin] === '\n') begin++;
    const end = text.indexOf('endstream', begin);
    if (end < 0) continue;
    try {
      const raw = Buffer.from(text.slice(begin, end), 'latin1');
      // Sync flush: the bytes before `endstream` may hold an end-of-line the stream does not count.
      const inflated = inflateSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH */, maxOutputLength: MAX_INFLATED });
      streams.push(inflated.toString('latin1'));
    } catch {
      // Not Flate-encoded, damaged, or too large: skipped; the leaf count or the fallback decides.
    }
  }
  return streams;
}
