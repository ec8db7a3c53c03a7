/**
 * The inspector's status panel says when a session's figures are unconfirmed (`SessionInfo.figures`:
 * memory's, from before a write in doubt, or none read), and not otherwise. Rendered with
 * react-dom/server from a real runtime's SessionInfo.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { SessionStatus } from '../../src/inspector/session-status.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionInfo } from '../../src/runtime/types.js';
import { tempRoot } from '../helpers/temp-root.js';

const render = (session: SessionInfo) =>
  renderToStaticMarkup(createElement(SessionStatus, { session, estimate: null, checkpoint: null }));

describe('SessionStatus', () => {
  it("marks the figures of a session whose figures are 'unconfirmed'", async () => {
    const runtime = await createSessionRuntime({ root: await tempRoot() });
    const info = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'figures' });
    await runtime.close();
    expect(info.figures).toBe('confirmed');
    expect(render(info)).not.toContain('figures-unconfirmed');
    const html = render({ ...info, figures: 'unconfirmed' });
    expect(html).toContain('data-testid="figures-unconfirmed"');
    expect(html).toContain('until the session is loaded again');
  });
});
