/**
 * The inspector on a session of 1,620 messages, in a real headless Chromium: a virtualised
 * history read a page at a time, the search, the jump to a cut, the checkpoint diff, the token
 * timeline, a compaction's progress and its cancellation from the page, and the layout at 420 px.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { CompactionInput, CompactOptions, Compactor } from '../../src/compaction/compactor.js';
import type { CheckpointSummary } from '../../src/core/types.js';
import { loadInspectorAssets } from '../../src/inspector/bundle.js';
import { diffCheckpoints } from '../../src/inspector/checkpoint-diff.js';
import { createMatcher } from '../../src/inspector/history-search.js';
import { createInspectorHandler } from '../../src/inspector/page-handler.js';
import { serveSessions, type SessionServer } from '../../src/ipc/http.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';
import { snapshotDir } from '../helpers/temp-root.js';
import { DEV, devRound, seedLargeSession } from './seed.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
const ROUNDS = 135; // 12 messages a round: 1,620 messages
const COMPACT_EVERY = 45; // three compactions

/** The page's document, as these tests read it (the package compiles without the DOM library). */
interface DocumentLike {
  querySelectorAll(selector: string): { length: number };
  documentElement: { scrollHeight: number; scrollWidth: number };
}

/** Scrolls the history's box to `fraction` of its height (run in the page: no closure). */
async function scrollHistory(page: Page, fraction: number): Promise<void> {
  await page.getByTestId('history-scroll').evaluate((el, f) => {
    const box = el as unknown as { scrollTop: number; scrollHeight: number };
    box.scrollTop = box.scrollHeight * f;
  }, fraction);
}

/** Presses every "Show all N" button of `region` (each becomes "Show fewer"). */
async function showAll(region: ReturnType<Page['locator']>): Promise<void> {
  const more = region.getByRole('button', { name: /^Show all/ });
  // Each click re-renders its section without its button: wait for that before counting again.
  for (let n = await more.count(); n > 0; n = await more.count()) {
    await more.first().click();
    await more.nth(n - 1).waitFor({ state: 'detached' });
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The offline compactor, or, once `hold()` is called, one that reports progress and waits for the test. */
class HoldableCompactor implements Compactor {
  readonly name = 'offline';
  readonly maxInputTokens = 200_000;
  readonly #inner = new OfflineCompactor();
  gate: { entered: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> } | null = null;

  hold() {
    this.gate = { entered: deferred(), release: deferred() };
    return this.gate;
  }

  async compact(input: CompactionInput, options: CompactOptions): Promise<CheckpointSummary> {
    const gate = this.gate;
    if (gate) {
      options.onProgress?.({ chunk: 1, chunks: 2, outputTokens: 321 });
      gate.entered.resolve();
      await Promise.race([
        gate.release.promise,
        new Promise((_, reject) =>
          options.signal.addEventListener('abort', () => reject(options.signal.reason)),
        ),
      ]);
    }
    return this.#inner.compact(input, options);
  }
}

describe.skipIf(!existsSync(CHROMIUM))(
  'the inspector on a 1,620-message session in headless Chromium',
  () => {
    let root: string;
    let runtime: SessionRuntime;
    let server: SessionServer;
    let browser: Browser;
    let id: string;
    const compactor = new HoldableCompactor();
    const pageErrors: Error[] = [];

    beforeAll(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), 'dagent-inspector-large-'));
      runtime = await createSessionRuntime({
        root,
        compactor,
        limits: { maxTokens: 400_000, compactAt: 0.9, keepRecentTokens: 300, replyReserveTokens: 1_000 },
      });
      ({ id } = await runtime.createSession(DEV, { context: { taskTitle: 'A long task' } }));
      await seedLargeSession(runtime, id, ROUNDS, COMPACT_EVERY);
      server = await serveSessions(runtime, { page: createInspectorHandler(await loadInspectorAssets()) });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    }, 120_000);

    afterAll(async () => {
      compactor.gate?.release.resolve(); // a failed test leaves no compaction waiting
      await browser?.close();
      await server?.close();
      await runtime?.close();
      if (root) await rm(root, { recursive: true, force: true });
      expect(pageErrors).toEqual([]);
    });

    /** A tab on the session, with the bytes of every history read counted. */
    async function open(width = 1280): Promise<{
      page: Page;
      historyBytes: () => number;
      reads: () => number;
      settled: () => Promise<number>;
    }> {
      const page = await browser.newPage({ viewport: { width, height: 800 } });
      page.on('pageerror', (error) => pageErrors.push(error));
      let bytes = 0;
      let reads = 0;
      const bodies: Promise<unknown>[] = [];
      page.on('response', (response) => {
        if (!response.url().includes('session:getHistory')) return;
        reads++;
        bodies.push(response.body().then((b) => (bytes += b.length)));
      });
      await page.goto(`${server.url}/#session=${id}`);
      await page.locator('.dgi-live[data-live="true"]').waitFor();
      await page.getByRole('meter').waitFor();
      await page.locator('.dgi-message[data-seq="0"]').waitFor();
      // Every row on screen read: no row left loading, and every answer's body counted.
      await page.locator('.dgi-message--loading').first().waitFor({ state: 'detached' });
      const settled = async () => {
        await Promise.all(bodies);
        return bytes;
      };
      return { page, historyBytes: () => bytes, reads: () => reads, settled };
    }

    it('renders only the rows on screen and reads the history a page at a time as it scrolls', async () => {
      const history = await runtime.getHistory(id);
      expect(history).toHaveLength(ROUNDS * 12);
      const { page, historyBytes, reads, settled } = await open();
      const figures = await page.evaluate(() => {
        const d = (globalThis as unknown as { document: DocumentLike }).document;
        return {
          rows: d.querySelectorAll('.dgi-row').length,
          nodes: d.querySelectorAll('*').length,
          pageHeight: d.documentElement.scrollHeight,
        };
      });
      const whole = Buffer.byteLength(JSON.stringify({ ok: true, value: history }));
      await settled();
      console.log(
        `[inspector] ${history.length} messages: ${figures.rows} rows, ${figures.nodes} DOM nodes, page ` +
          `${figures.pageHeight} px; ${reads()} history ` +
          `reads, ${historyBytes()} bytes (the whole history: ${whole} bytes)`,
      );
      expect(figures.rows).toBeLessThan(30);
      // The page's height no longer grows with the history: the list is a box of its own.
      const historyHeight = (await page.getByRole('region', { name: 'History', exact: true }).boundingBox())!
        .height;
      expect(historyHeight).toBeLessThan(900);
      expect(figures.pageHeight).toBeLessThan(6_000);
      expect(historyBytes()).toBeLessThan(whole / 5);
      const list = page.locator('ol.dgi-history');
      const checkpoint = (await runtime.getCheckpoint(id))!;
      expect(checkpoint.version).toBe(ROUNDS / COMPACT_EVERY);
      // Every commit's cut is known, from every kept checkpoint version: one row each.
      await expect
        .poll(async () => Number(await list.getAttribute('data-rows')))
        .toBe(history.length + checkpoint.version);

      // Scrolled to the middle, the rows there are read and shown; the first ones leave the page.
      await scrollHistory(page, 0.5);
      const middle = page.locator('.dgi-message[data-seq]:not(.dgi-message--loading)').nth(5);
      await middle.waitFor();
      const seq = Number(await middle.getAttribute('data-seq'));
      expect(seq).toBeGreaterThan(700);
      expect(seq).toBeLessThan(900);
      await expect(middle.textContent()).resolves.toContain(`#${seq}`);
      await expect(page.locator('.dgi-message[data-seq="0"]').count()).resolves.toBe(0);
      expect(await page.locator('.dgi-row').count()).toBeLessThan(30);
      await page.close();
    });

    it('jumps to a compaction cut point', async () => {
      const { page } = await open();
      const versions = await runtime.getCheckpointVersions(id);
      const second = (await runtime.getCheckpoint(id, { version: versions[1]! }))!;
      const cutAfter = second.compactionInfo.archivedThroughSeq;
      await expect(page.locator(`.dgi-cut[data-cut-after="${cutAfter}"]`).count()).resolves.toBe(0);
      await page.getByLabel('Jump to').selectOption(String(cutAfter));
      const cut = page.locator(`.dgi-cut[data-cut-after="${cutAfter}"]`);
      await cut.waitFor();
      await expect(cut.isVisible()).resolves.toBe(true);
      await expect(cut.textContent()).resolves.toBe(`Compaction (checkpoint v${second.version}) cut here`);
      await page.locator(`.dgi-message[data-seq="${cutAfter}"][data-archived="true"]`).waitFor();
      await page.close();
    });

    it('searches by text, role and tool name, and shows a match in place', async () => {
      const { page, historyBytes, settled } = await open();
      const history = await runtime.getHistory(id);
      const matches = createMatcher({ text: 'FAIL', role: 'user', tool: 'Bash' });
      const expected = history.filter(matches).map((m) => m.seq);
      expect(expected.length).toBeGreaterThan(100);
      await page.getByLabel('Search text').fill('FAIL');
      await page.getByLabel('Role').selectOption('user');
      await page.getByLabel('Tool').fill('Bash');
      const status = page.getByTestId('search-status');
      await page.locator('[data-testid="search-status"][data-done="true"]').waitFor();
      await expect(status.textContent()).resolves.toBe(`${expected.length} matches`);
      const first = page.locator('ol[aria-label="Matches"] .dgi-message').first();
      await expect(first.getAttribute('data-seq')).resolves.toBe(String(expected[0]));
      // The search read the history once, page by page; nothing more is read for the next search.
      const afterScan = await settled();
      await page.getByLabel('Tool').fill('Edit');
      await page.getByLabel('Search text').fill('');
      await page.getByLabel('Role').selectOption('');
      await page.locator('[data-testid="search-status"][data-done="true"]').waitFor();
      const edits = history.filter(createMatcher({ text: '', role: '', tool: 'Edit' })).length;
      await expect(status.textContent()).resolves.toBe(`${edits} matches`);
      expect(await settled()).toBe(afterScan);
      expect(historyBytes()).toBe(afterScan);
      // A match far down, shown in the full list in place.
      const target = history.filter(createMatcher({ text: '', role: '', tool: 'Edit' })).at(-3)!.seq;
      await scrollHistory(page, 1);
      const row = page.locator(`ol[aria-label="Matches"] .dgi-message[data-seq="${target}"]`);
      await row.scrollIntoViewIfNeeded();
      await row.getByRole('button', { name: 'Show in history' }).click();
      const shown = page.locator(
        `ol[aria-label="Messages"] .dgi-message[data-seq="${target}"][data-highlight="true"]`,
      );
      await shown.waitFor();
      await expect(shown.isVisible()).resolves.toBe(true);
      await page.close();
    });

    it('shows what a checkpoint version added, superseded and dropped against another', async () => {
      const { page } = await open();
      const versions = await runtime.getCheckpointVersions(id);
      expect(versions).toEqual([1, 2, 3]);
      const [v2, v3, v1] = await Promise.all([
        runtime.getCheckpoint(id, { version: 2 }),
        runtime.getCheckpoint(id, { version: 3 }),
        runtime.getCheckpoint(id, { version: 1 }),
      ]);
      const panel = page.getByRole('region', { name: 'Version diff' });
      await panel.locator('.dgi-diff[data-from="2"][data-to="3"]').waitFor();
      const count = (d: ReturnType<typeof diffCheckpoints>, change: 'added' | 'superseded' | 'dropped') =>
        d.reduce((n, s) => n + s[change].length, 0);
      const expected = diffCheckpoints(v2, v3);
      expect(count(expected, 'added')).toBeGreaterThan(0);
      expect(count(expected, 'superseded')).toBeGreaterThan(0);
      // The figures of every section, and its lines once "Show all" is pressed.
      for (const section of expected.filter(
        (x) => x.added.length + x.superseded.length + x.dropped.length > 0,
      )) {
        const shown = panel.locator(`.dgi-diff__section[data-section="${section.id}"]`);
        for (const change of ['added', 'superseded', 'dropped'] as const)
          await expect(shown.getAttribute(`data-${change}`)).resolves.toBe(String(section[change].length));
      }
      await showAll(panel);
      for (const change of ['added', 'superseded', 'dropped'] as const)
        await expect(panel.locator(`[data-change="${change}"]`).count()).resolves.toBe(
          count(expected, change),
        );
      await panel.getByLabel('From version').selectOption('1');
      await panel.locator('.dgi-diff[data-from="1"][data-to="3"]').waitFor();
      const wider = diffCheckpoints(v1, v3);
      await showAll(panel);
      await expect(panel.locator('[data-change="added"]').count()).resolves.toBe(count(wider, 'added'));
      const firstFile = wider.find((s) => s.id === 'files')!.added[0]!;
      await expect(panel.locator('[data-section="files"]').textContent()).resolves.toContain(firstFile);
      await page.close();
    });

    it('draws the token timeline: a point per message, the threshold, the limit, and each compaction', async () => {
      const { page } = await open();
      await page.getByText('Token timeline').click();
      const chart = page.getByRole('img', { name: /^Request size per message/ });
      await chart.waitFor({ timeout: 20_000 });
      const history = await runtime.getHistory(id);
      await expect(chart.getAttribute('data-points')).resolves.toBe(String(history.length));
      await expect(chart.getAttribute('data-marks')).resolves.toBe('3');
      await expect(chart.locator('[data-line="threshold"]').count()).resolves.toBe(1);
      await expect(chart.locator('[data-line="limit"]').count()).resolves.toBe(1);
      for (const version of [1, 2, 3]) {
        const info = (await runtime.getCheckpoint(id, { version }))!.compactionInfo;
        const mark = chart.locator(`.dgi-chart__mark[data-version="${version}"]`);
        await expect(mark.getAttribute('data-before')).resolves.toBe(String(info.tokensBefore));
        await expect(mark.getAttribute('data-after')).resolves.toBe(String(info.tokensAfter));
        expect(info.tokensAfter).toBeLessThan(info.tokensBefore);
      }
      await page.close();
    });

    it('shows a running compaction with its progress, and cancels it: nothing changes on disk', async () => {
      const { page } = await open();
      // Something to fold: the seeding ended with a compaction.
      for (const message of devRound('src/late/change.ts', 'a late change'))
        await runtime.addMessage(id, message);
      const before = await runtime.getHistory(id);
      const gate = compactor.hold();
      const compaction = runtime.compact(id, { keepRecentTokens: 300 }).then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      await gate.entered.promise;
      const files = path.join(root, '.dagent', 'sessions', id);
      const disk = await snapshotDir(files);
      const progress = page.getByTestId('compaction-progress');
      // The chunk numbers are the runtime's (how many calls it makes); the output tokens the compactor's.
      await progress.filter({ hasText: /^Compacting: chunk 1 of \d+ · 321 output tokens$/ }).waitFor();
      await page.getByRole('button', { name: 'Cancel compaction' }).click();
      await page.getByText('Compaction cancelled: nothing changed on disk.').waitFor();
      expect((await compaction)?.code).toBe('COMPACTION_CANCELLED');
      compactor.gate = null;
      // The page hears of the state after the cancel's reply: wait for it, then read it.
      await page.locator('.dgi-status [data-state="idle"]').waitFor();
      await expect(page.locator('.dgi-status [data-state]').textContent()).resolves.toBe('idle');
      await progress.waitFor({ state: 'detached' });
      await expect(progress.count()).resolves.toBe(0);
      expect(await snapshotDir(files)).toEqual(disk);
      expect(await runtime.getHistory(id)).toEqual(before);
      expect((await runtime.getCheckpoint(id))?.version).toBe(3);
      await page.close();
    });

    it('is usable at 420 px: nothing overflows the page sideways, and the controls are reachable', async () => {
      const { page } = await open(420);
      await page.getByText('Token timeline').click();
      await page.getByRole('img', { name: /^Request size per message/ }).waitFor({ timeout: 20_000 });
      const overflow = await page.evaluate(
        () => (globalThis as unknown as { document: DocumentLike }).document.documentElement.scrollWidth,
      );
      expect(overflow).toBeLessThanOrEqual(420);
      for (const control of [
        page.getByRole('button', { name: 'Compact now' }),
        page.getByLabel('Search text'),
        page.getByLabel('Tool'),
        page.getByLabel('Jump to'),
        page.getByLabel('From version'),
        page.getByRole('button', { name: 'Export JSON' }),
      ]) {
        await control.scrollIntoViewIfNeeded();
        const box = (await control.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(420);
      }
      // A control used at that width works: the search finds the Bash calls.
      await page.getByLabel('Tool').fill('Bash');
      await page.locator('[data-testid="search-status"][data-done="true"]').waitFor();
      await page.close();
    });
  },
);
