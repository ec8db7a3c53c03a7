/**
 * The inspector page in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against `serveSessions` over a seeded root. `DAGENT_SCREENSHOT=1` also writes docs/inspector.png.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactCommand } from '../../src/cli/compact-command.js';
import { advertiseHost } from '../../src/ipc/host-file.js';
import { serveSessions, type SessionServer } from '../../src/ipc/http.js';
import { loadInspectorAssets } from '../../src/inspector/bundle.js';
import { createInspectorHandler } from '../../src/inspector/page-handler.js';
import type { SessionExport, SessionRuntime } from '../../src/runtime/types.js';
import { seedInspectorRoot, type SeededIds } from './seed.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = fileURLToPath(new URL('../../docs/inspector.png', import.meta.url));

describe.skipIf(!existsSync(CHROMIUM))(
  `the inspector page in headless Chromium (skipped without ${CHROMIUM}; .ci/run installs it)`,
  () => {
    let root: string;
    let runtime: SessionRuntime;
    let ids: SeededIds;
    let server: SessionServer;
    let browser: Browser;
    const pageErrors: Error[] = [];

    beforeAll(async () => {
      root = await mkdtemp(path.join(os.tmpdir(), 'dagent-inspector-'));
      ({ runtime, ids } = await seedInspectorRoot(root));
      server = await serveSessions(runtime, { page: createInspectorHandler(await loadInspectorAssets()) });
      // As `dagent-sessions inspect` does: the holder of the root advertises its server, so that
      // the CLI's compact goes through it.
      await advertiseHost(root, server.url);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await runtime?.close();
      if (root) await rm(root, { recursive: true, force: true });
      expect(pageErrors).toEqual([]);
    });

    /** A new tab on the page (with `sessionId` selected), once its event stream is connected. */
    async function open(sessionId?: string): Promise<Page> {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (error) => pageErrors.push(error));
      await page.goto(`${server.url}/${sessionId ? `#session=${sessionId}` : ''}`);
      await page.locator('.dgi-live[data-live="true"]').waitFor();
      if (sessionId) await page.getByRole('meter').waitFor();
      return page;
    }

    const listed = async (page: Page) =>
      Promise.all(
        (await page.locator('[data-session-id]').all()).map((button) =>
          button.getAttribute('data-session-id'),
        ),
      );

    it('loads and lists the seeded sessions', async () => {
      const page = await open();
      await page.locator('[data-session-id]').first().waitFor();
      expect((await listed(page)).sort()).toEqual(Object.values(ids).sort());
      await expect(page.title()).resolves.toBe('dagent-sessions inspector');
      await page.close();
    });

    it('narrows the list by agent type, feature, task state and machine state', async () => {
      const page = await open();
      await page.getByLabel('Agent type').selectOption('dev');
      expect((await listed(page)).sort()).toEqual([ids.dev, ids.searchDev].sort());
      await page.getByLabel('Feature').selectOption('search');
      expect(await listed(page)).toEqual([ids.searchDev]);
      await page.getByLabel('Agent type').selectOption('');
      await page.getByLabel('Task state').selectOption('(feature)');
      expect(await listed(page)).toEqual([ids.searchPm]);
      await page.getByLabel('Feature').selectOption('');
      await page.getByLabel('Task state').selectOption('');
      await page.getByLabel('Machine state').selectOption('failed');
      expect(await listed(page)).toEqual([]);
      await expect(page.getByText('No sessions match.').isVisible()).resolves.toBe(true);
      await page.close();
    });

    it('shows the gauge, the machine state, the checkpoint and the cut of the selected session', async () => {
      const page = await open();
      await page.locator(`[data-session-id="${ids.dev}"]`).click();
      const meter = page.getByRole('meter');
      await meter.waitFor();
      const estimate = await runtime.estimateSize(ids.dev);
      expect(Number(await meter.getAttribute('aria-valuenow'))).toBe(estimate.total);
      expect(Number(await meter.getAttribute('aria-valuemax'))).toBe(estimate.limit);
      expect(estimate.total / estimate.limit).toBeGreaterThanOrEqual(0.8);
      await expect(page.locator('.dgi-gauge').getAttribute('data-level')).resolves.toBe('warning');
      await expect(page.locator('.dgi-status [data-state]').textContent()).resolves.toBe('idle');
      await expect(page.getByTestId('checkpoint-version').textContent()).resolves.toBe('v1');
      const archivedThrough = (await runtime.getCheckpoint(ids.dev))!.compactionInfo.archivedThroughSeq;
      const history = await runtime.getHistory(ids.dev);
      await expect(page.getByTestId('history-count').textContent()).resolves.toBe(
        `· ${history.length} messages, ${archivedThrough + 1} archived`,
      );
      // One row per message and one for the cut; only those on screen are in the page.
      await expect(page.locator('ol.dgi-history').getAttribute('data-rows')).resolves.toBe(
        String(history.length + 1),
      );
      await page.getByLabel('Jump to').selectOption(String(archivedThrough));
      await page.locator(`.dgi-cut[data-cut-after="${archivedThrough}"]`).waitFor();
      await page.locator(`.dgi-message[data-seq="${archivedThrough}"][data-archived="true"]`).waitFor();
      await page.locator(`.dgi-message[data-seq="${archivedThrough + 1}"][data-archived="false"]`).waitFor();
      await page.getByRole('button', { name: 'Oldest' }).click();
      expect(page.url()).toContain(`#session=${ids.dev}`);
      if (process.env['DAGENT_SCREENSHOT'] === '1') {
        await page.locator('.dgi-top').scrollIntoViewIfNeeded(); // the jump scrolled the page down
        await page.screenshot({ path: SCREENSHOT });
      }
      await page.close();
    });

    it('hides internal messages until asked, and shows the recorded decisions in the checkpoint', async () => {
      const page = await open(ids.pm);
      const history = await runtime.getHistory(ids.pm);
      const internal = history.filter((m) => m.metadata?.['internal'] === true);
      expect(internal).toHaveLength(1);
      await page.locator(`.dgi-message[data-seq="0"]`).waitFor();
      await expect(page.locator('.dgi-message').count()).resolves.toBe(history.length - 1);
      await expect(page.locator(`.dgi-message-hidden[data-seq="${internal[0]!.seq}"]`).count()).resolves.toBe(
        1,
      );
      await expect(page.getByText('DAGent: feature state synced').count()).resolves.toBe(0);
      await page.getByLabel('Show internal messages').check();
      await expect(page.locator('.dgi-message').count()).resolves.toBe(history.length);
      await expect(
        page.locator(`.dgi-message[data-internal="true"][data-seq="${internal[0]!.seq}"]`).count(),
      ).resolves.toBe(1);
      await page.getByLabel('Show internal messages').uncheck();
      await expect(page.locator('.dgi-message').count()).resolves.toBe(history.length - 1);
      await expect(page.locator('[data-section="reviews"]').textContent()).resolves.toContain(
        'merge conflict in t1 (src/report/csv.ts) resolved: kept both column orders behind ' +
          'the legacyColumns flag (merge) because: finance still imports the old layout',
      );
      await page.close();
    });

    it('"Compact now" updates the checkpoint view through the event stream', async () => {
      const page = await open(ids.dev);
      const checkpoint = page.getByRole('region', { name: 'Checkpoint' });
      await expect(checkpoint.textContent()).resolves.not.toContain('src/report/dates.ts');
      await page.getByLabel('Tail to keep (tokens)').fill('0');
      await page.getByRole('button', { name: 'Compact now' }).click();
      await page.locator('.dgi-checkpoint[data-version="2"]').waitFor();
      await expect(checkpoint.textContent()).resolves.toContain('src/report/dates.ts'); // from the messages just folded
      await expect(page.getByTestId('checkpoint-version').textContent()).resolves.toBe('v2');
      await page.locator('.dgi-record[data-version="2"]').waitFor();
      // Two cuts now, each one a place to jump to (and a row of the list).
      await expect.poll(() => page.getByLabel('Jump to').locator('option').count()).toBe(3);
      // The answer of the call is shown when it returns, which may be after the events: wait for it.
      await page
        .getByRole('status')
        .filter({ hasText: /^Compacted \d+ messages/ })
        .waitFor();
      await page.close();
    });

    // The page never polls: only the event stream can bring the new checkpoint, so waiting for
    // it (on the page's state, not a clock: a loaded machine is slow) proves the update is live.
    it('shows a compaction started from the CLI through the event stream', async () => {
      const page = await open(ids.searchDev);
      await expect(page.getByTestId('checkpoint-version').textContent()).resolves.toBe('v0');
      const io = { out: () => undefined, err: () => undefined, interactive: false };
      const compaction = compactCommand([ids.searchDev, '--root', root, '--keep-recent-tokens', '0'], io);
      await page.waitForSelector('.dgi-checkpoint[data-version="1"]');
      expect(await compaction).toBe(0);
      await page.waitForSelector('.dgi-record[data-version="1"][data-source="event"]');
      await page.close();
    });

    it('exports a JSON file with the session, its checkpoint and its full history', async () => {
      const page = await open(ids.dev);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export JSON' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`session-${ids.dev}.json`);
      const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as SessionExport;
      expect(exported.session.id).toBe(ids.dev);
      expect(exported.checkpoint?.version).toBe(2);
      const history = await runtime.getHistory(ids.dev);
      expect(exported.history).toHaveLength(history.length);
      expect(exported.history.map((m) => m.seq)).toEqual(history.map((m) => m.seq));
      await page.close();
    });

    it('asks before clearing and resetting, does nothing when cancelled, and acts when confirmed', async () => {
      const page = await open(ids.qa);
      const before = {
        live: (await runtime.getMessages(ids.qa)).length,
        checkpoint: await runtime.getCheckpoint(ids.qa),
      };
      expect(before.live).toBeGreaterThan(0);

      await page.getByRole('button', { name: 'Clear messages…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Clear the live messages?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect((await runtime.getMessages(ids.qa)).length).toBe(before.live);
      expect(await runtime.getCheckpoint(ids.qa)).toEqual(before.checkpoint);

      await page.getByRole('button', { name: 'Clear messages…' }).click();
      await dialog.getByRole('button', { name: 'Clear messages', exact: true }).click();
      await page
        .getByRole('status')
        .getByText(`Cleared: ${before.live} messages moved to the archive`)
        .waitFor();
      expect(await runtime.getMessages(ids.qa)).toEqual([]);
      await page.locator('.dgi-checkpoint[data-version="1"]').waitFor();

      await page.getByRole('button', { name: 'Reset…' }).click();
      const reset = page.getByRole('dialog', { name: 'Reset the session?' });
      await reset.waitFor();
      await page.keyboard.press('Escape');
      await reset.waitFor({ state: 'hidden' });
      expect((await runtime.getCheckpoint(ids.qa))?.version).toBe(1);

      await page.getByRole('button', { name: 'Reset…' }).click();
      await reset.getByRole('button', { name: 'Reset', exact: true }).click();
      await page.locator('.dgi-checkpoint[data-version="2"]').waitFor();
      expect((await runtime.getCheckpoint(ids.qa))?.compactionInfo.compactor).toBe('reset');
      await page.close();
    });

    it('shows an error of the API in the alert region', async () => {
      await runtime.archiveSession(ids.harness);
      const page = await open(ids.harness);
      await expect(page.getByRole('alert').textContent()).resolves.toBe('');
      await page.getByRole('button', { name: 'Compact now' }).click();
      await page
        .getByRole('alert')
        .getByText(/^SESSION_ARCHIVED: /)
        .waitFor();
      await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toBe('');
      await page.close();
    });
  },
);
