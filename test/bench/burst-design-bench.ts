/**
 * What this design reaches on the lean-core bench's burst (200 new 1 KB texts issued at once to a
 * fresh session): the public API with its default estimator, with the approximate one (no exact
 * count, nothing for the counting worker), each also with `syncAppends: 'calling-thread'`, and
 * the store layer alone, rotated per round in one process so that each meets the same load and
 * the same warm code. `npm run bench burst-design`; `BURST_ROUNDS` sets the rounds (default 30).
 */
import path from 'node:path';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { createTokenEstimator } from '../../src/tokens/token-estimator.js';
import {
  keyOf,
  openFloor,
  openStoreLayer,
  percentile,
  realText,
  removeDir,
  storedMessage,
  tempDir,
  textsOf,
  type StoreLayer,
} from './lean-core-shared.js';
import type { BenchTable } from './run.js';

const COUNT = 200;

interface Variant {
  name: string;
  /** One burst of `texts`; resolves once every append is acknowledged. */
  burst(round: number, texts: string[]): Promise<number>;
  close(): Promise<void>;
}

async function runtimeVariant(
  root: string,
  name: string,
  options: { approximate: boolean; callingThread: boolean },
  warmTexts: string[],
  sample: () => Promise<void>,
): Promise<Variant> {
  const runtime: SessionRuntime = await createSessionRuntime({
    root,
    ...(options.approximate ? { estimator: createTokenEstimator({ mode: 'approximate' }) } : {}),
    compactor: new OfflineCompactor({ estimator: createTokenEstimator({ mode: 'approximate' }) }),
    limits: { maxTokens: 50_000_000 },
    ...(options.callingThread ? { syncAppends: 'calling-thread' as const } : {}),
  });
  // The counting worker loaded and answered before any clock starts.
  const warm = await runtime.createSession(keyOf('warm'));
  await Promise.all(warmTexts.map((t) => runtime.addMessage(warm.id, { role: 'user', content: t })));
  await runtime.estimateSize(warm.id);
  return {
    name,
    async burst(round, texts) {
      const { id } = await runtime.createSession(keyOf(`burst${round}`));
      for (let i = 0; i < 3; i++) await sample();
      const t0 = performance.now();
      await Promise.all(texts.map((t) => runtime.addMessage(id, { role: 'user', content: t })));
      const took = performance.now() - t0;
      await runtime.estimateSize(id); // the counts still on their way are not the next round's load
      return took;
    },
    close: () => runtime.close(),
  };
}

function storeVariant(store: StoreLayer, sample: () => Promise<void>): Variant {
  return {
    name: 'store layer alone (messages counted already)',
    async burst(round, texts) {
      const id = await store.create(keyOf(`burst${round}`));
      for (let i = 0; i < 3; i++) await sample();
      const t0 = performance.now();
      await Promise.all(texts.map((t, i) => store.append(id, [storedMessage(i, t)])));
      return performance.now() - t0;
    },
    close: () => store.close(),
  };
}

export async function run(): Promise<BenchTable> {
  const rounds = Number(process.env.BURST_ROUNDS ?? 30);
  const source = await realText();
  const kinds = [
    { name: 'public API, default estimator', approximate: false, callingThread: false },
    { name: 'public API, approximate estimator', approximate: true, callingThread: false },
    {
      name: "public API, default estimator, syncAppends 'calling-thread'",
      approximate: false,
      callingThread: true,
    },
    {
      name: "public API, approximate estimator, syncAppends 'calling-thread'",
      approximate: true,
      callingThread: true,
    },
  ];
  // Texts new to the process in every burst: a text seen before has its count cached.
  const all = textsOf(source, 1024, COUNT * ((kinds.length + 1) * (rounds + 1) + 1));
  let next = 0;
  const fresh = () => all.slice(next * COUNT, ++next * COUNT);
  const dir = await tempDir();
  try {
    const floorBytes = Buffer.byteLength(
      fresh()
        .map((t, i) => JSON.stringify(storedMessage(i, t)))
        .join('\n'),
    );
    const floor = await openFloor(dir, floorBytes);
    const variants: Variant[] = [];
    for (const [i, kind] of kinds.entries())
      variants.push(
        await runtimeVariant(path.join(dir, `runtime${i}`), kind.name, kind, fresh(), floor.sample),
      );
    variants.push(storeVariant(await openStoreLayer(path.join(dir, 'store')), floor.sample));
    const samples = variants.map(() => [] as number[]);
    for (let round = -1; round < rounds; round++)
      for (const [i, variant] of variants.entries()) {
        const took = await variant.burst(round, fresh());
        if (round >= 0) samples[i]!.push(took);
      }
    for (const variant of variants) await variant.close();
    const base = floor.p50();
    await floor.close();
    const ms = (value: number) => `${value.toFixed(2)} ms (${(value / base).toFixed(1)}x)`;
    return {
      title: `A burst of ${COUNT} appends under variants of this design (rotated per round, ${rounds} rounds)`,
      columns: ['variant', 'p50', 'p25', 'p75'],
      rows: variants.map((variant, i) => [
        variant.name,
        ms(percentile(samples[i]!, 0.5)),
        ms(percentile(samples[i]!, 0.25)),
        ms(percentile(samples[i]!, 0.75)),
      ]),
      notes: [
        `Ratios against one write + fdatasync of all ${COUNT} records (${floorBytes} B): ${base.toFixed(2)} ms, p50.`,
        'Each variant runs a warm-up burst first; each burst appends 1 KB texts new to the process to a new session.',
        'The approximate estimator counts nothing exactly: its rows are what the actor and the store cost alone.',
      ],
    };
  } finally {
    await removeDir(dir);
  }
}
