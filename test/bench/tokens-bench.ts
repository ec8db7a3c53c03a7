/**
 * The estimate of a 100k-token session (a sum of counts stored at append time) against a fresh
 * js-tiktoken count of the same messages, in the same run.
 */
import { performance } from 'node:perf_hooks';
import { Tiktoken } from 'js-tiktoken/lite';
import { demoDevConversation } from '../../src/cli/demo-dev-conversation.js';
import { packageRoot } from '../../src/cli/package-info.js';
import { parseTranscript } from '../../src/integration/transcript.js';
import type { Message } from '../../src/core/types.js';
import { contentToText } from '../../src/request/format.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import { createRequire } from 'node:module';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs the benchmark and returns its report as markdown. */
export async function run(): Promise<string> {
  const estimator = createTokenEstimator();
  const loadStart = performance.now();
  estimator.estimate('warm up');
  const loadMs = performance.now() - loadStart;

  // A 100k-token session from the demo's Dev conversation, counted once per message as appends do.
  const transcript = parseTranscript(await demoDevConversation(packageRoot()));
  const messages: Message[] = [];
  let total = 0;
  for (const [seq, input] of transcript.messages.entries()) {
    const tokens = estimator.estimateMessage(input);
    if (total + tokens > 100_000) break;
    total += tokens;
    messages.push({
      id: `m${seq}`,
      seq,
      role: input.role,
      content: input.content,
      timestamp: '2026-01-01T00:00:00.000Z',
      tokens,
    });
  }

  const sumTimes: number[] = [];
  let sum = 0;
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    sum = estimator.estimateMessages(messages);
    sumTimes.push(performance.now() - t0);
  }

  // The alternative: tokenise everything again with a fresh js-tiktoken encoder.
  const require = createRequire(import.meta.url);
  const ranks = require('js-tiktoken/ranks/cl100k_base') as ConstructorParameters<typeof Tiktoken>[0] & {
    default?: ConstructorParameters<typeof Tiktoken>[0];
  };
  const encoder = new Tiktoken(ranks.default ?? ranks);
  const texts = messages.map((m) => contentToText(m.content));
  const freshTimes: number[] = [];
  let fresh = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    fresh = 0;
    for (const text of texts) fresh += encoder.encode(text, 'all').length;
    freshTimes.push(performance.now() - t0);
  }
  const sumMs = median(sumTimes);
  const freshMs = median(freshTimes);
  return [
    '### Token estimate of a 100k-token session',
    '',
    `${messages.length} messages of the demo's Dev conversation, ${sum.toLocaleString('en-US')} ` +
      `tokens as stored (fresh count of the same texts: ${fresh.toLocaleString('en-US')}).`,
    '',
    '| method | median ms | ratio |',
    '|---|---:|---:|',
    `| estimateMessages (sum of stored counts) | ${sumMs.toFixed(4)} | 1 |`,
    `| fresh js-tiktoken count of every message | ${freshMs.toFixed(1)} ` +
      `| ${(freshMs / Math.max(sumMs, 1e-6)).toFixed(0)}x |`,
    '',
    `Loading cl100k_base on first use: ${loadMs.toFixed(0)} ms (once per process).`,
  ].join('\n');
}
