/**
 * `dagent-sessions inspect`: serves a root's sessions over HTTP for the inspector, or checks a
 * host that already does (`--url`).
 */
import type { InspectionEvent } from 'xstate';
import { SessionError, describeError, isSessionError } from '../core/errors.js';
import { loadInspectorAssets } from '../inspector/bundle.js';
import { createInspectorHandler } from '../inspector/page-handler.js';
import { serveInspector } from '../inspector/serve-inspector.js';
import { advertiseHost, readHost } from '../ipc/host-file.js';
import { createSessionClient } from '../ipc/client.js';
import { serveSessions } from '../ipc/http.js';
import type { SessionRuntime } from '../runtime/types.js';
import { defineCommand, intOption, usageError } from './command.js';
import type { CliCommand, CliIO } from './io.js';
import { openRuntime, rootOf } from './open-runtime.js';
import { untilStopped } from './until-stopped.js';

const USAGE = `Usage: dagent-sessions inspect [--root DIR] [--port N] [--stately] [--json]
       dagent-sessions inspect --url URL [--token TOKEN] [--port N] [--check] [--json]

Serves the inspector page for the sessions of DIR on http://127.0.0.1:PORT until Ctrl+C (SIGINT)
or SIGTERM: every session with its token gauge, checkpoint, compaction history and full history,
live through the event stream, with actions (compact, clear, reset, export).

When nobody holds DIR, inspect opens it for writing and advertises its server in
DIR/.dagent/server.json, so that "dagent-sessions compact" run elsewhere goes through it and shows
up in the open page at once. When a host holds DIR and advertises a server, inspect attaches to
that host; when a host holds DIR without one, inspect serves it read-only (changes that host makes
show up only after its sessions are reloaded).

With --url, attaches to a running host (an app using serveSessions, or another inspect): serves the
page locally and forwards the session API and events to URL. --check only asks the host's /health
and prints what it serves: exit 0 when healthy, 1 when it cannot be reached, 2 when it answers but
not as a healthy dagent-sessions host.

Served beside the page: POST /rpc/<channel> (the session API), GET /events (Server-Sent Events),
GET /health.

Options:
  --root DIR        the root to serve (default: the current directory)
  --port N          the local port (default 0: any free port; the URL is printed)
  --url URL         attach to the host at URL instead of opening a root
  --token TOKEN     with --url: the host's token (sent as "Authorization: Bearer TOKEN")
  --check           with --url: only check the host's health
  --stately         also send the actors' inspection events to Stately's inspector
                    (@statelyai/inspect, over a local WebSocket; see docs/inspector.md)
  --json            print { url, root, mode } (serving) or the host's answer (--check) as JSON
  -h, --help        show this help`;

/** @internal What {@link startInspector} serves, one line each. */
export const INSPECTOR_SERVES = [
  'GET  /: the inspector page',
  'POST /rpc/<channel>: the session API',
  'GET  /events: runtime events (Server-Sent Events)',
  'GET  /health: status',
] as const;

/** @internal `--url`: asks a host's /health and what it serves. */
async function checkHost(url: string, token: string | undefined, io: CliIO, json: boolean): Promise<number> {
  let base: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new Error(`protocol ${parsed.protocol}`);
    base = parsed.href.replace(/\/+$/, '');
  } catch (error) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `--url must be the http(s) URL of a dagent-sessions host, ` +
        `such as http://127.0.0.1:7420, got ${JSON.stringify(url)} (${describeError(error)})`,
    );
  }
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  let status: number;
  let body: {
    ok?: unknown;
    value?: { status?: unknown; channels?: unknown };
    error?: { code?: unknown; message?: unknown };
  } | null;
  try {
    const response = await fetch(`${base}/health`, { headers, signal: AbortSignal.timeout(10_000) });
    status = response.status;
    body = (await response.json().catch(() => null)) as typeof body;
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
    io.err(
      `cannot reach ${base}/health ` +
        `(${describeError(error)}${typeof cause === 'string' ? `: ${cause}` : ''}); ` +
        `is "dagent-sessions inspect" or serveSessions running there?`,
    );
    return 1;
  }
  if (body === null || body.ok !== true) {
    const why = body?.error
      ? `${String(body.error.message)} (${String(body.error.code)})`
      : 'an answer that is not a dagent-sessions health report';
    io.err(`${base}/health answered ${status}: ${why}`);
    return 2;
  }
  const channels = Array.isArray(body.value?.channels) ? (body.value.channels as unknown[]).map(String) : [];
  let sessions: number | null = null;
  try {
    sessions = (await createSessionClient(base, token === undefined ? {} : { token }).list()).length;
  } catch {
    sessions = null; // the health answer is what counts; the count is a courtesy
  }
  if (json) {
    io.out(JSON.stringify({ url: base, status: body.value?.status ?? 'ok', channels, sessions }));
    return 0;
  }
  io.out(
    [
      `${base} is a dagent-sessions host: ${String(body.value?.status ?? 'ok')}`,
      `  POST /rpc/<channel>  ${channels.length} channels: ${channels.join(', ')}`,
      '  GET  /events         runtime events (Server-Sent Events)',
      `  sessions             ${sessions === null ? 'unknown (session:list failed)' : sessions}`,
    ].join('\n'),
  );
  return 0;
}

/**
 * @internal The `inspect` command; `stop` ends the serving (tests), else SIGINT or SIGTERM does.
 */
export function createInspectCommand(options: { stop?: AbortSignal } = {}): CliCommand {
  return defineCommand(
    {
      name: 'inspect',
      usage: USAGE,
      options: {
        root: { type: 'string' },
        port: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        check: { type: 'boolean' },
        stately: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    },
    async ({ values }, io) => {
      const port = intOption(values.port, '--port', 0);
      if (port !== undefined && port > 65_535)
        throw new SessionError('INVALID_ARGUMENT', 'cli', `--port must be from 0 to 65535, got ${port}`);
      const stop = untilStopped({ signal: options.stop });
      try {
        if (values.url !== undefined) {
          if (values.root !== undefined)
            return usageError(
              io,
              'inspect',
              '--url attaches to a running host; --root applies only to serving a root',
            );
          if (values.check) return await checkHost(values.url, values.token, io, values.json === true);
          const health = await checkHost(
            values.url,
            values.token,
            { out: () => undefined, err: io.err, interactive: false },
            true,
          );
          if (health !== 0) return health;
          const inspector = await serveInspector({
            target: values.url,
            ...(values.token === undefined ? {} : { token: values.token }),
            ...(port === undefined ? {} : { port }),
          });
          return await serveUntilStopped(
            io,
            values.json === true,
            { url: inspector.url, root: null, mode: `attached to ${values.url}` },
            stop,
            () => inspector.close(),
          );
        }
        if (values.token !== undefined || values.check)
          return usageError(io, 'inspect', '--token and --check go with --url');
        const root = rootOf(values.root);
        const inspect = values.stately ? await statelyInspector(io) : null;
        let runtime: SessionRuntime;
        let mode: string;
        try {
          runtime = await openRuntime({
            root,
            command: 'inspect',
            write: true,
            ...(inspect ? { inspect: inspect.inspect } : {}),
          });
          mode = 'writer';
        } catch (error) {
          if (!isSessionError(error, 'ROOT_LOCKED')) throw error;
          const host = await readHost(root);
          if (host !== null) {
            io.err(`${root} is held by process ${host.pid}, which serves it at ${host.url}: attaching to it`);
            const inspector = await serveInspector({
              target: host.url,
              ...(port === undefined ? {} : { port }),
            });
            return await serveUntilStopped(
              io,
              values.json === true,
              { url: inspector.url, root, mode: `attached to ${host.url}` },
              stop,
              () => inspector.close(),
            );
          }
          io.err(
            `${describeError(error)}\nServing read-only: ` +
              `changes made by that process show up here only after its sessions are reloaded.`,
          );
          runtime = await openRuntime({ root, command: 'inspect', write: false });
          mode = 'read-only';
        }
        try {
          const server = await serveSessions(runtime, {
            host: '127.0.0.1',
            port: port ?? 0,
            page: createInspectorHandler(await loadInspectorAssets()),
          });
          const withdraw = mode === 'writer' ? await advertiseHost(root, server.url) : async () => undefined;
          return await serveUntilStopped(
            io,
            values.json === true,
            { url: server.url, root, mode },
            stop,
            async () => {
              await withdraw();
              await server.close();
            },
          );
        } finally {
          await runtime.close();
          await inspect?.stop();
        }
      } finally {
        stop.dispose();
      }
    },
  );
}

/** @internal Prints where the page is, waits for SIGINT/SIGTERM (or the test's stop), closes. */
async function serveUntilStopped(
  io: CliIO,
  json: boolean,
  info: { url: string; root: string | null; mode: string },
  stop: { done: Promise<string> },
  close: () => Promise<void>,
): Promise<number> {
  try {
    if (json) io.out(JSON.stringify({ ...info, page: `${info.url}/`, serves: INSPECTOR_SERVES }));
    else {
      io.out(`dagent-sessions inspect: ${info.root ?? info.mode} (${info.mode})`);
      io.out(`  inspector page  ${info.url}/`);
      for (const line of INSPECTOR_SERVES) io.out(`  ${line}`);
      io.out('Ctrl+C stops.');
    }
    const reason = await stop.done;
    if (!json && reason !== 'abort') io.err(`${reason}: stopping`);
    return 0;
  } finally {
    await close();
  }
}

/** @internal The Stately inspector, when @statelyai/inspect is installed. */
async function statelyInspector(
  io: CliIO,
): Promise<{ inspect: (event: InspectionEvent) => void; stop(): Promise<void> }> {
  const specifier = '@statelyai/inspect';
  type Inspect = ((event: InspectionEvent) => void) | { next?: (event: InspectionEvent) => void };
  let module: {
    createWebSocketInspector?: (options?: { url?: string }) => { inspect: Inspect; stop?: () => void };
  };
  try {
    module = (await import(specifier)) as typeof module;
  } catch (error) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      `--stately needs @statelyai/inspect: install it with "npm install @statelyai/inspect" (${describeError(error)})`,
    );
  }
  if (typeof module.createWebSocketInspector !== 'function') {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'cli',
      'this version of @statelyai/inspect has no createWebSocketInspector; install @statelyai/inspect 0.4 or later',
    );
  }
  const inspector = module.createWebSocketInspector();
  io.err(
    'Stately inspector: sending inspection events over a local WebSocket (see docs/inspector.md to view them)',
  );
  const target = inspector.inspect;
  return {
    inspect: (event) => (typeof target === 'function' ? target(event) : target.next?.(event)),
    stop: async () => inspector.stop?.(),
  };
}

/**
 * `dagent-sessions inspect [--root DIR] [--port N] [--json]` or `inspect --url URL [--token T]`.
 * Serving: exit 0 after SIGINT/SIGTERM. `--url`: 0 healthy, 1 unreachable, 2 not healthy.
 * @example await inspectCommand(['--root', '/repo', '--port', '7420'], processIO)
 */
export const inspectCommand: CliCommand = createInspectCommand();
