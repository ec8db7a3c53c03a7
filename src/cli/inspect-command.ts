/**
 * `dagent-sessions inspect`: serves a root's sessions over HTTP for the inspector, or checks a
 * host that already does (`--url`).
 */
import { SessionError, describeError } from '../core/errors.js';
import { createSessionClient } from '../ipc/client.js';
import { serveSessions } from '../ipc/http.js';
import type { SessionRuntime } from '../runtime/types.js';
import { defineCommand, intOption, usageError } from './command.js';
import type { CliCommand, CliIO } from './io.js';
import { openRuntime, rootOf } from './open-runtime.js';

const USAGE = `Usage: dagent-sessions inspect [--root DIR] [--port N] [--json]
       dagent-sessions inspect --url URL [--token TOKEN] [--json]

Serves the sessions of DIR on http://127.0.0.1:PORT until Ctrl+C (SIGINT) or SIGTERM, read-only:
it works while a host holds the root, and requests that would change a session are refused.

What it serves today is the session API the inspector page will use, not the page itself:
  POST /rpc/<channel>   the session API (session:list, session:get, session:getMessages,
                        session:previewRequest, session:export, ...), JSON arrays of arguments
  GET  /events          runtime events as Server-Sent Events
  GET  /health          { ok: true, value: { status, channels } }
Point createSessionClient(url) (or curl) at it. The inspector page is not part of this version.

With --url, checks a running host (this command, or serveSessions in an app) instead: asks its
/health and prints what it serves and how many sessions it has; exit 0 when healthy, 1 when it
cannot be reached, 2 when it answers but not as a healthy dagent-sessions host.

Options:
  --root DIR        the root to serve (default: the current directory)
  --port N          the port (default 0: any free port; the URL is printed)
  --url URL         check the host at URL instead of serving
  --token TOKEN     with --url: the host's token (sent as "Authorization: Bearer TOKEN")
  --json            print { url, root, readOnly, serves } (serving) or the host's answer (--url)
                    as one JSON line
  -h, --help        show this help`;

/** @internal What {@link startInspector} serves, one line each. */
export const INSPECTOR_SERVES = ['POST /rpc/<channel>: the session API', 'GET /events: runtime events (Server-Sent Events)', 'GET /health: status'] as const;

/** @internal A running inspector server. */
export interface InspectorServer {
  readonly url: string;
  readonly serves: readonly string[];
  close(): Promise<void>;
}

/**
 * @internal Starts what `inspect` serves for `runtime` on 127.0.0.1. Today that is the session
 * API of `serveSessions`; the inspector page, when it comes, is added here (served beside the
 * API on the same origin), so the command and its callers do not change.
 */
export async function startInspector(runtime: SessionRuntime, options: { port?: number } = {}): Promise<InspectorServer> {
  const server = await serveSessions(runtime, { host: '127.0.0.1', port: options.port ?? 0 });
  return { url: server.url, serves: INSPECTOR_SERVES, close: () => server.close() };
}

/** @internal Resolves on the first SIGINT or SIGTERM, or when `signal` aborts. */
function stopRequested(signal: AbortSignal | undefined): { done: Promise<string>; dispose(): void } {
  let dispose: () => void = () => undefined;
  const done = new Promise<string>((resolve) => {
    const onSignal = (name: string) => resolve(name);
    const onAbort = () => resolve('abort');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) resolve('abort');
    dispose = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      signal?.removeEventListener('abort', onAbort);
    };
  });
  return { done, dispose };
}

/** @internal `--url`: asks a host's /health and what it serves. */
async function checkHost(url: string, token: string | undefined, io: CliIO, json: boolean): Promise<number> {
  let base: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`protocol ${parsed.protocol}`);
    base = parsed.href.replace(/\/+$/, '');
  } catch (error) {
    throw new SessionError('INVALID_ARGUMENT', 'cli', `--url must be the http(s) URL of a dagent-sessions host, such as http://127.0.0.1:7420, got ${JSON.stringify(url)} (${describeError(error)})`);
  }
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  let status: number;
  let body: { ok?: unknown; value?: { status?: unknown; channels?: unknown }; error?: { code?: unknown; message?: unknown } } | null;
  try {
    const response = await fetch(`${base}/health`, { headers, signal: AbortSignal.timeout(10_000) });
    status = response.status;
    body = (await response.json().catch(() => null)) as typeof body;
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
    io.err(`cannot reach ${base}/health (${describeError(error)}${typeof cause === 'string' ? `: ${cause}` : ''}); is "dagent-sessions inspect" or serveSessions running there?`);
    return 1;
  }
  if (body === null || body.ok !== true) {
    const why = body?.error ? `${String(body.error.message)} (${String(body.error.code)})` : 'an answer that is not a dagent-sessions health report';
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
        json: { type: 'boolean' },
      },
    },
    async ({ values }, io) => {
      if (values.url !== undefined) {
        if (values.root !== undefined || values.port !== undefined) return usageError(io, 'inspect', '--url checks a running host; --root and --port apply only to serving');
        return checkHost(values.url, values.token, io, values.json === true);
      }
      if (values.token !== undefined) return usageError(io, 'inspect', '--token goes with --url (the served API is loopback-only and needs none)');
      const port = intOption(values.port, '--port', 0);
      if (port !== undefined && port > 65_535) throw new SessionError('INVALID_ARGUMENT', 'cli', `--port must be from 0 to 65535, got ${port}`);
      const root = rootOf(values.root);
      const runtime = await openRuntime({ root, command: 'inspect', write: false });
      const stop = stopRequested(options.stop);
      try {
        const server = await startInspector(runtime, port === undefined ? {} : { port });
        try {
          if (values.json) io.out(JSON.stringify({ url: server.url, root, readOnly: true, serves: server.serves }));
          else {
            io.out(`dagent-sessions inspect: serving ${root} (read-only) at ${server.url}`);
            for (const line of server.serves) io.out(`  ${line}`);
            io.out('The inspector page is not part of this version; use createSessionClient(url) or curl. Ctrl+C stops.');
          }
          const reason = await stop.done;
          if (!values.json && reason !== 'abort') io.err(`${reason}: stopping`);
        } finally {
          await server.close();
        }
      } finally {
        stop.dispose();
        await runtime.close();
      }
      return 0;
    },
  );
}

/**
 * `dagent-sessions inspect [--root DIR] [--port N] [--json]` or `inspect --url URL [--token T]`.
 * Serving: exit 0 after SIGINT/SIGTERM. `--url`: 0 healthy, 1 unreachable, 2 not healthy.
 * @example await inspectCommand(['--root', '/repo', '--port', '7420'], processIO)
 */
export const inspectCommand: CliCommand = createInspectCommand();
