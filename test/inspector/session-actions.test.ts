/**
 * The inspector's actions offer "Reload from files…" (`api.reopen`) for a session in doubt only:
 * one whose error says a write is in its files but not durable (`details.outcome`). Rendered with
 * react-dom/server from a real runtime's SessionInfo; the click itself is the e2e test's (Chromium).
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionActions } from '../../src/inspector/session-actions.js';
import type { SessionAPI } from '../../src/ipc/channels.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionInfo, SessionRuntime } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';

let runtime: SessionRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

const render = (session: SessionInfo) =>
  renderToStaticMarkup(
    createElement(SessionActions, { api: {} as SessionAPI, session, onError: () => undefined }),
  );

describe('SessionActions', () => {
  it('offers "Reload from files…" for a session in doubt, and not otherwise', async () => {
    runtime = await createSessionRuntime({ root: await tempRoot() });
    const info = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'doubt' });
    expect(render(info)).not.toContain('Reload from files');
    const failed = (outcome?: string): SessionInfo => ({
      ...info,
      state: 'failed',
      error: {
        code: 'IO_ERROR',
        message: 'the fsync of its directory failed',
        ...(outcome === undefined ? {} : { details: { outcome } }),
      },
    });
    expect(render(failed())).not.toContain('Reload from files');
    for (const outcome of ['in-place-not-durable', 'refused-in-doubt'])
      expect({ outcome, html: render(failed(outcome)) }).toEqual({
        outcome,
        html: expect.stringContaining('Reload from files…</button>'),
      });
  });
});
