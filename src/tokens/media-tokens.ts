/**
 * What images and PDFs cost in a request, as Anthropic documents it: never their base64 counted
 * as text (a 1 MB screenshot would read as some 300,000 tokens, while the model is billed about
 * 1,600 for it).
 *
 * Images (https://platform.claude.com/docs/en/build-with-claude/vision, "Evaluate image size" and
 * "Calculate image costs"): `tokens = (width px * height px) / 750`, after the API scales down,
 * preserving the aspect ratio, an image whose long edge is more than 1568 px or that is more than
 * about 1,600 tokens (1.15 to 1.2 megapixels): so no image costs more than about 1,600 tokens.
 *
 * PDFs (https://platform.claude.com/docs/en/build-with-claude/pdf-support, "Estimate your costs"):
 * each page is sent as its extracted text (1,500 to 3,000 tokens per page, by content density)
 * and as an image of the page; measured totals stay under 3,000 per page, so a page counts 3,000.
 */
import type { DocumentBlock, ImageBlock, ImageSource } from '../core/types.js';
import { base64Bytes, imageSize } from './media-size.js';
import { pdfPageCount } from './pdf-pages.js';

/** The long edge past which the API scales an image down (vision docs). */
export const MAX_IMAGE_EDGE_PX = 1568;
/** Pixels per token of an image (vision docs: tokens = width * height / 750). */
export const PIXELS_PER_IMAGE_TOKEN = 750;
/**
 * The most an image costs once the API has scaled it down (vision docs: "more than ~1,600 tokens"
 * is scaled down). Also the count of an image whose size cannot be read (a URL or Files API
 * source, an unknown format): every image costs at most this.
 */
export const MAX_IMAGE_TOKENS = 1600;
/** Tokens per PDF page: the upper end of the documented text cost per page (pdf-support docs). */
export const PDF_PAGE_TOKENS = 3000;
/**
 * Pages assumed for a PDF whose pages cannot be counted here (a URL or Files API source, an
 * encrypted or damaged file). An estimate, not a bound: the API's own count may be higher.
 */
export const UNREAD_PDF_PAGES = 5;

/**
 * Tokens of an image of `width` x `height` pixels, after the API's scaling: `ceil(w * h / 750)`
 * on the scaled size, at most {@link MAX_IMAGE_TOKENS}.
 *
 * @example imageTokens(1000, 1000) // 1334
 * @example imageTokens(4000, 3000) // 1600 (scaled down)
 */
export function imageTokens(width: number, height: number): number {
  if (!(width > 0 && height > 0)) return MAX_IMAGE_TOKENS;
  const edge = Math.min(1, MAX_IMAGE_EDGE_PX / Math.max(width, height));
  const pixels = width * edge * (height * edge);
  return Math.min(MAX_IMAGE_TOKENS, Math.ceil(pixels / PIXELS_PER_IMAGE_TOKEN));
}

/**
 * Tokens of an image source: by its pixels for base64 data whose header is readable, else
 * {@link MAX_IMAGE_TOKENS}.
 *
 * @example imageSourceTokens({ type: 'url', url: 'https://example.com/a.png' }) // 1600
 */
export function imageSourceTokens(source: ImageSource | undefined): number {
  if (source?.type !== 'base64' || typeof source.data !== 'string') return MAX_IMAGE_TOKENS;
  const size = imageSize(source.data);
  return size === null ? MAX_IMAGE_TOKENS : imageTokens(size.width, size.height);
}

/** The pixel cost of an image block. @example imageBlockTokens(block) // 1334 for 1000x1000 */
export function imageBlockTokens(block: ImageBlock): number {
  return imageSourceTokens(block.source);
}

/**
 * The pages of a PDF document block (counted from its bytes for a base64 source), or null when
 * the document is not a PDF.
 *
 * @example pdfPages(block) // 12
 */
export function pdfPages(block: DocumentBlock): number | null {
  const source = block.source;
  if (source?.type === 'base64') {
    const pages = typeof source.data === 'string' ? pdfPageCount(Buffer.from(source.data, 'base64')) : null;
    return pages ?? UNREAD_PDF_PAGES;
  }
  if (source?.type === 'url' || source?.type === 'file') return UNREAD_PDF_PAGES;
  return null;
}

/**
 * The bytes a base64 source stands for (0 for other sources).
 * @example sourceBytes({ type: 'base64', media_type: 'image/png', data: 'aGVsbG8=' }) // 5
 */
export function sourceBytes(source: { type?: unknown; data?: unknown } | undefined): number {
  return source?.type === 'base64' && typeof source.data === 'string' ? base64Bytes(source.data) : 0;
}
