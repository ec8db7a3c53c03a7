/**
 * Counting what the API counts: image sizes read from real files' headers (PNG, JPEG baseline,
 * progressive and with a 60 KB segment before its frame, GIF, WebP lossy, lossless and extended),
 * images priced by Anthropic's formula, PDFs by their pages (object streams too), documents by
 * their text; base64 never counted as text, on the main thread or on the counting worker.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ContentBlock } from '../../src/core/types.js';
import { blockCost } from '../../src/tokens/block-cost.js';
import { base64Bytes, imageSize } from '../../src/tokens/media-size.js';
import {
  MAX_IMAGE_TOKENS,
  PDF_PAGE_TOKENS,
  UNREAD_PDF_PAGES,
  imageTokens,
} from '../../src/tokens/media-tokens.js';
import { pdfPageCount } from '../../src/tokens/pdf-pages.js';
import {
  BLOCK_OVERHEAD_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  createTokenEstimator,
} from '../../src/tokens/token-estimator.js';

const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/media');
const file = (name: string) => readFileSync(path.join(MEDIA, name));
const base64 = (name: string) => file(name).toString('base64');
const image = (name: string, mediaType = 'image/png'): ContentBlock => ({
  type: 'image',
  source: { type: 'base64', media_type: mediaType, data: base64(name) },
});
const estimator = createTokenEstimator();

describe('image sizes from real files', () => {
  it.each([
    ['screenshot-37x23.png', 'png', 37, 23],
    ['photo-1000x750.jpg', 'jpeg', 1000, 750],
    ['progressive-64x48.jpg', 'jpeg', 64, 48],
    ['commented-640x480.jpg', 'jpeg', 640, 480],
    ['large-2000x1500.jpg', 'jpeg', 2000, 1500],
    ['anim-33x17.gif', 'gif', 33, 17],
    ['lossy-300x200.webp', 'webp', 300, 200],
    ['lossless-300x200.webp', 'webp', 300, 200],
    ['alpha-120x90.webp', 'webp', 120, 90],
  ] as const)('%s is a %s of %ix%i', (name, format, width, height) => {
    expect(imageSize(base64(name))).toEqual({ format, width, height });
  });

  it('reads base64 with line breaks, and says null for what is not an image', () => {
    const wrapped = base64('photo-1000x750.jpg').replace(/.{76}/g, '$&\n');
    expect(imageSize(wrapped)).toEqual({ format: 'jpeg', width: 1000, height: 750 });
    expect(imageSize(Buffer.from('plain text, not an image at all').toString('base64'))).toBeNull();
    expect(imageSize(base64('three-pages.pdf'))).toBeNull();
    expect(imageSize('')).toBeNull();
    // A JPEG cut before its frame header.
    expect(imageSize(file('commented-640x480.jpg').subarray(0, 30_000).toString('base64'))).toBeNull();
  });

  it('counts the bytes base64 stands for', () => {
    for (const name of ['screenshot-37x23.png', 'anim-33x17.gif', 'three-pages.pdf'])
      expect(base64Bytes(base64(name))).toBe(file(name).length);
  });
});

describe("images cost what Anthropic's formula says, whatever the size of their base64", () => {
  it('width * height / 750, after scaling to a 1568 px long edge and about 1,600 tokens', () => {
    expect(imageTokens(1000, 750)).toBe(1000);
    expect(imageTokens(37, 23)).toBe(Math.ceil((37 * 23) / 750));
    expect(imageTokens(200, 200)).toBe(54);
    expect(imageTokens(1092, 1092)).toBe(1590); // the docs' largest 1:1 size that is not scaled
    expect(imageTokens(2000, 1500)).toBe(MAX_IMAGE_TOKENS); // scaled down
    expect(imageTokens(4000, 200)).toBe(Math.ceil((1568 * 78.4) / 750)); // the long edge scaled
  });

  it('an image block costs its pixels plus the block framing, not its base64 length', () => {
    const photo = image('photo-1000x750.jpg', 'image/jpeg');
    expect(estimator.estimateContent([photo])).toBe(1000 + BLOCK_OVERHEAD_TOKENS);
    // The 60 KB JPEG costs by its pixels (640x480 = 410 tokens): its base64 would be ~40,000 as text.
    const commented = image('commented-640x480.jpg', 'image/jpeg');
    expect(estimator.estimateContent([commented])).toBe(410 + BLOCK_OVERHEAD_TOKENS);
    expect(estimator.estimate(base64('commented-640x480.jpg'))).toBeGreaterThan(10_000);
  });

  it('a URL, a file or an unreadable image costs the most any image can: 1,600 tokens', () => {
    const url: ContentBlock = { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } };
    const fileImage: ContentBlock = { type: 'image', source: { type: 'file', file_id: 'file_1' } };
    const broken: ContentBlock = {
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: Buffer.from('not a png').toString('base64') },
    };
    for (const block of [url, fileImage, broken])
      expect(blockCost(block)).toEqual({ text: '', fixed: MAX_IMAGE_TOKENS });
  });

  it('an image inside a tool result costs its pixels; the text beside it is counted exactly', () => {
    const result: ContentBlock = {
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      content: [
        { type: 'text', text: 'The page at 420 px:' },
        image('photo-1000x750.jpg', 'image/jpeg') as never,
      ],
    };
    expect(blockCost(result)).toEqual({ text: 'The page at 420 px:', fixed: 1000 });
    expect(estimator.estimateContent([result])).toBe(
      estimator.estimate('The page at 420 px:') + 1000 + BLOCK_OVERHEAD_TOKENS,
    );
  });
});

describe('documents cost their text or their pages', () => {
  it('counts the pages of real PDFs, the page tree in object streams too', () => {
    expect(pdfPageCount(file('three-pages.pdf'))).toBe(3);
    expect(pdfPageCount(file('twelve-pages-objstm.pdf'))).toBe(12);
    expect(pdfPageCount(file('screenshot-37x23.png'))).toBeNull();
  });

  it('a PDF costs its pages at 3,000 tokens; its title is text', () => {
    const pdf: ContentBlock = {
      type: 'document',
      title: 'Design notes',
      source: { type: 'base64', media_type: 'application/pdf', data: base64('three-pages.pdf') },
    };
    expect(blockCost(pdf)).toEqual({ text: 'Design notes', fixed: 3 * PDF_PAGE_TOKENS });
    const twelve: ContentBlock = {
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: base64('twelve-pages-objstm.pdf') },
    };
    expect(blockCost(twelve).fixed).toBe(12 * PDF_PAGE_TOKENS);
    const url: ContentBlock = {
      type: 'document',
      source: { type: 'url', url: 'https://example.com/spec.pdf' },
    };
    expect(blockCost(url).fixed).toBe(UNREAD_PDF_PAGES * PDF_PAGE_TOKENS);
  });

  it('a plain-text document costs its title, context and text, counted exactly', () => {
    const doc: ContentBlock = {
      type: 'document',
      title: 'Store contract',
      context: 'From the architecture page',
      source: { type: 'text', media_type: 'text/plain', data: 'The store keeps every message.' },
    };
    const text = 'Store contract\nFrom the architecture page\nThe store keeps every message.';
    expect(blockCost(doc)).toEqual({ text, fixed: 0 });
    expect(estimator.estimateContent([doc])).toBe(estimator.estimate(text) + BLOCK_OVERHEAD_TOKENS);
  });
});

describe('thinking and tool blocks as rendered; payloads never as text', () => {
  it('server tool results count their readable part; encrypted content counts by size, not as text', () => {
    const encrypted = 'EqgfCioIARgBIiQ3YTAw'.repeat(40);
    const cost = blockCost({
      type: 'web_search_tool_result',
      tool_use_id: 'srvtoolu_1',
      content: [
        {
          type: 'web_search_result',
          title: 'Compaction',
          url: 'https://x.dev',
          encrypted_content: encrypted,
        },
      ],
    });
    expect(cost.text).toContain('"title":"Compaction"');
    expect(cost.text).not.toContain(encrypted.slice(0, 20));
    expect(cost.fixed).toBe(Math.ceil(encrypted.length / 4));
    expect(blockCost({ type: 'redacted_thinking', data: encrypted })).toEqual({ text: '', fixed: 200 });
  });

  it('the counting worker gives the same count for a large text beside an image (no base64 sent to it)', async () => {
    const big = 'The session keeps every word. '.repeat(2_000);
    const content: ContentBlock[] = [
      { type: 'text', text: big },
      image('commented-640x480.jpg', 'image/jpeg'),
    ];
    const sync = estimator.estimateMessage({ role: 'user', content });
    expect(await estimator.estimateMessageAsync({ role: 'user', content })).toBe(sync);
    expect(sync).toBe(estimator.estimate(big) + 410 + 2 * BLOCK_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS);
  });
});
