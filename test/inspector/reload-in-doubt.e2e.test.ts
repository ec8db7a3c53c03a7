/**
 * "Reload from files…" in a real headless Chromium (Debian's `chromium`, driven by playwright-core),
 * on a session really in doubt: a child process, its I/O through the LD_PRELOAD fault shim, creates
 * it while the fsync of its directory fails after session.json went in place (EIO), appends three
 * messages to it (a session in doubt takes appends), and serves the inspector over its runtime. The
 * page shows the session failed, its figures unconfirmed, with its messages; the user clicks
 * "Reload from files…" and confirms; the page then shows it loaded again from its files: no longer
 * failed, figures confirmed, the same three messages, listed once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRoot } from '../helpers/temp-root.js';
import { FaultControl, buildFaultShim, faultEnv, type ShimBuild } from '../support/fault-shim.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const SHIM = fileURLToPath(new URL('../support/fault-shim.ts', import.meta.url));
const ID = 'feature--reload--dev';

/**
 * The child: the session created in doubt and three messages appended; then the inspector served
 * over the runtime. Prints one JSON line (the create's outcome, the faulted calls, the server's
 * URL), then serves until its stdin closes.
 */
const CHILD = `
const { createSessionRuntime } = await import(${JSON.stringify(`${SRC}runtime/create-session-runtime.ts`)});
const { createTokenEstimator } = await import(${JSON.stringify(`${SRC}tokens/token-estimator.ts`)});
const { serveSessions } = await import(${JSON.stringify(`${SRC}ipc/http.ts`)});
const { loadInspectorAssets } = await import(${JSON.stringify(`${SRC}inspector/bundle.ts`)});
const { createInspectorHandler } = await import(${JSON.stringify(`${SRC}inspector/page-handler.ts`)});
const { FaultControl } = await import(${JSON.stringify(SHIM)});
const path = await import('node:path');
const [root, controlDir] = process.argv.slice(1);
const control = new FaultControl(controlDir);
const assets = await loadInspectorAssets(); // built before the fault: no write of its own under it
const runtime = await createSessionRuntime({
  root,
  estimator: createTokenEstimator({ mode: 'approximate' }),
  limits: { maxTokens: 100000 },
});
const id = ${JSON.stringify(ID)};
const dir = path.join(root, '.dagent', 'sessions', id);
// Its second fsync: the first covers the files before session.json.
await control.set({ path: dir + '$', ops: ['fsync'], errno: 'EIO', nth: 2, count: 1 });
const create = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'reload' }).then(
  () => ({ ok: true }),
  (e) => ({ code: e.code, outcome: e.details?.outcome }),
);
await control.set(null);
const faulted = await control.faulted();
for (let i = 0; i < 3; i++)
  await runtime.addMessage(id, { role: 'user', content: 'message ' + i + ' in doubt' });
const server = await serveSessions(runtime, { page: createInspectorHandler(assets) });
console.log(JSON.stringify({ create, faulted, url: server.url }));
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  await runtime.close();
  process.exit(0);
});
`;

describe.skipIf(!existsSync(CHROMIUM))(
  `"Reload from files…" in headless Chromium (skipped without ${CHROMIUM}; .ci/run installs it)`,
  () => {
    let shim: ShimBuild;
    let root: string;
    let child: ChildProcess | undefined;
    let browser: Browser | undefined;
    const pageErrors: Error[] = [];

    beforeAll(async () => {
      shim = await buildFaultShim();
      root = await realpath(await tempRoot('dagent-reload-in-doubt-'));
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    });

    afterAll(async () => {
      await browser?.close();
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.stdin?.end(); // the child closes its server and runtime, then exits
        await exited;
      }
      expect(pageErrors).toEqual([]);
    });

    /** Starts the child; resolves with the JSON line it prints once it serves. */
    async function startChild(library: string): Promise<{ create: unknown; faulted: string[]; url: string }> {
      const control = new FaultControl(root);
      await control.set(null);
      child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, root, root], {
        env: faultEnv(library, control),
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const exited = new Promise<never>((_, reject) =>
        child!.once('exit', (code) => reject(new Error(`the child exited (${code}) before it served`))),
      );
      const lines = createInterface({ input: child.stdout! });
      const first = new Promise<string>((resolve) => lines.once('line', resolve));
      return JSON.parse(await Promise.race([first, exited])) as {
        create: unknown;
        faulted: string[];
        url: string;
      };
    }

    it('reloads a session in doubt from its files when the user confirms', async (t) => {
      if (!shim.ok) return t.skip(shim.reason);
      const served = await startChild(shim.library);
      const dir = path.join(root, '.dagent', 'sessions', ID);
      expect(served.faulted).toEqual([`fsync ${dir}`]);
      expect(served.create).toEqual({ code: 'IO_ERROR', outcome: 'in-place-not-durable' });

      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (error) => pageErrors.push(error));
      await page.goto(`${served.url}/#session=${ID}`);
      await page.locator('.dgi-live[data-live="true"]').waitFor();
      await page.getByRole('meter').waitFor();

      // In doubt: failed, figures unconfirmed, its messages there.
      const status = page.locator('.dgi-status [data-state]');
      await expect(status.textContent()).resolves.toBe('failed');
      await page.getByTestId('figures-unconfirmed').waitFor();
      await expect(page.locator('.dgi-session-error').textContent()).resolves.toContain('in place');
      await expect.poll(() => page.locator('.dgi-message').count()).toBe(3);

      await page.getByRole('button', { name: 'Reload from files…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Reload the session from its files?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Reload from files', exact: true }).click();

      // Loaded again from its files: the page says so, the doubt is gone, the messages are the same.
      await page
        .getByRole('status')
        .filter({ hasText: /^Reloaded from its files: checkpoint v0, 3 live messages\.$/ })
        .waitFor();
      await page.getByTestId('figures-unconfirmed').waitFor({ state: 'detached' });
      await page.locator('.dgi-session-error').waitFor({ state: 'detached' });
      await expect(status.textContent()).resolves.not.toBe('failed');
      await expect(page.getByRole('button', { name: 'Reload from files…' }).count()).resolves.toBe(0);
      const messages = await page.locator('.dgi-message').allTextContents();
      expect(messages).toHaveLength(3);
      for (let i = 0; i < 3; i++) expect(messages[i]).toContain(`message ${i} in doubt`);
      await expect(page.locator(`[data-session-id="${ID}"]`).count()).resolves.toBe(1);
      await page.close();
    }, 120_000);
  },
);
