/**
 * The browser entry of the inspector page (bundled by `buildInspectorBundle`): the HTTP client
 * of the server that served the page, rendered by `SessionInspector`. The selected session is
 * kept in the URL (`#session=<id>`), so a reload or a shared link opens it again.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createSessionClient } from '../ipc/client.js';
import { browser } from './dom.js';
import { SessionInspector } from './session-inspector.js';

const { document, history, location } = browser();
const client = createSessionClient(location.origin);
const initialSessionId = new URLSearchParams(location.hash.slice(1)).get('session');

function remember(id: string | null): void {
  const hash = id === null ? '' : `#session=${encodeURIComponent(id)}`;
  if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}

const root = document.getElementById('root');
if (root === null) throw new Error('[dagent-sessions] [inspector] the page has no #root element');
createRoot(root as Parameters<typeof createRoot>[0]).render(
  <StrictMode>
    <SessionInspector api={client} initialSessionId={initialSessionId} onSelect={remember} />
  </StrictMode>,
);
