/**
 * Counting images and PDFs as the API counts them (a header read for the pixels, the page tree
 * for the pages) against the obvious alternative, counting the block's JSON, base64 included, as
 * text (what requests did before): the counts and the time of each, in the same run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { ContentBlock } from '../../src/core/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import type { BenchTable } from './run.js';

const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/media');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(runs: number, work: () => number): { ms: number; value: number } {
  const times: number[] = [];
  let value = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = work();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), value };
}

/** A PNG of 1920x1080 as far as its header says, 4 MiB of incompressible bytes after it. */
function largePng(): string {
  const header = readFileSync(path.join(MEDIA, 'screenshot-37x23.png')).subarray(0, 33);
  header.writeUInt32BE(1920, 16);
  header.writeUInt32BE(1080, 20);
  const body = Buffer.alloc(4 * 1024 * 1024);
  let x = 2463534242;
  for (let i = 0; i < body.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    body[i] = x & 0xff;
  }
  return Buffer.concat([header, body]).toString('base64');
}

/** Runs the benchmark. */
export async function run(): Promise<BenchTable> {
  const estimator = createTokenEstimator();
  estimator.estimate('warm up');
  const file = (name: string) => readFileSync(path.join(MEDIA, name)).toString('base64');
  const image = (data: string, mediaType: string): ContentBlock => ({
    type: 'image',
    source: { type: 'base64', media_type: mediaType, data },
  });
  const cases: Array<[string, ContentBlock]> = [
    ['JPEG 640x480, 62 KB (a 60 KB comment first)', image(file('commented-640x480.jpg'), 'image/jpeg')],
    ['PNG 1920x1080, 4 MiB', image(largePng(), 'image/png')],
    [
      'PDF, 12 pages in object streams, 4 KB',
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: file('twelve-pages-objstm.pdf') },
      },
    ],
  ];
  const rows = cases.map(([name, block]) => {
    const ours = time(9, () => estimator.estimateContent([block]));
    const asText = time(1, () => estimator.estimate(JSON.stringify(block)));
    return [name, ours.value, ours.ms.toFixed(3), asText.value, asText.ms.toFixed(1)];
  });
  return {
    title: 'Counting images and PDFs: their pixels and pages, or their base64 as text',
    columns: ['block', 'tokens (pixels, pages)', 'ms', 'tokens (base64 as text)', 'ms'],
    rows,
    notes: [
      'Images: width × height / 750 after the API scaling (at most 1,600); PDFs: 3,000 tokens a page.',
      'Median of 9 runs, and 1 run as text; exact cl100k_base ' +
        'counts (long base64 runs extrapolated, as countExact does).',
    ],
  };
}
