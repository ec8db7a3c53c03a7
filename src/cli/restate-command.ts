/**
 * `dagent-sessions restate dev|serve`: the two-command path for trying sessions on Restate.
 * `dev` runs a local restate-server from the installed `@restatedev/restate-server` with the
 * endpoint in this process and prints the ingress URL; `serve` runs the endpoint alone and says how
 * to register it. Both serve `restateServices()` (src/restate/services.ts): the session object,
 * the directory, the compaction workflow and the event feed; both run until Ctrl+C (SIGINT) or SIGTERM.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as RestateEntry from '../restate/index.js';
import { defineCommand, intOption, usageError } from './command.js';
import type { CliCommand, CliIO } from './io.js';
import { restatePackageMissing } from './restate-target.js';
import { untilStopped } from './until-stopped.js';

const USAGE = `Usage: dagent-sessions restate <dev|serve> [options]

Sessions on Restate (docs/restate.md). Needs the optional peer @restatedev/restate-sdk, and for
dev @restatedev/restate-server (npm install --save-dev @restatedev/restate-sdk
@restatedev/restate-server; the server is BSL-licensed, about 216 MB).

  restate dev [--port N] [--data-dir DIR] [--json]
      starts a local restate-server from the installed package on free loopback ports with a
      temporary data directory, serves the endpoint in this process, registers it and prints the
      ingress URL. Ctrl+C stops both and removes the temporary directory (a --data-dir is kept).
  restate serve --port N [--host HOST]
      serves the endpoint and prints how to register it with a Restate server.

Options:
  --port N        the endpoint's port (dev: default a free one; serve: required)
  --host HOST     serve: the interface to listen on (default 127.0.0.1; any other lets whoever
                  reaches it call the handlers)
  --data-dir DIR  dev: keep Restate's data in DIR (created if missing, kept at exit)
  --json          dev: print the URLs as one line of JSON
  -h, --help      show this help

Served: session (one virtual object per session: the store contract on Restate's state),
sessionDirectory (the sessions of a namespace), compaction (the durable compaction workflow),
sessionEvents and sessionEventsWait (the event feed), and dagentCounter (a counter that checks a
setup end to end). Then any command that reads sessions takes --restate INGRESS_URL, and
createRestateSessionClient({ ingressUrl }) of dagent-sessions/restate gives the SessionAPI.`;

type RestateModule = typeof RestateEntry;

/** Loads `dagent-sessions/restate`, saying what to install when its SDK is missing. */
async function loadRestate(): Promise<RestateModule> {
  try {
    return await import('../restate/index.js');
  } catch (error) {
    throw restatePackageMissing(
      error,
      'restate: @restatedev/restate-sdk is not installed; run npm install @restatedev/restate-sdk ' +
        '(and, for restate dev, npm install --save-dev @restatedev/restate-server)',
    );
  }
}

const devCommand = defineCommand(
  {
    name: 'restate dev',
    usage: USAGE,
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
  },
  async ({ values }, io) => {
    const port = intOption(values.port, '--port', 0) ?? 0;
    const restate = await loadRestate();
    const binary = restate.resolveRestateServerBinary();
    const kept = values['data-dir'] !== undefined;
    const dataDir = kept
      ? path.resolve(values['data-dir'] as string)
      : await mkdtemp(path.join(os.tmpdir(), 'dagent-restate-'));
    let server: Awaited<ReturnType<RestateModule['startLocalRestateServer']>> | undefined;
    let endpoint: Awaited<ReturnType<RestateModule['serveRestateEndpoint']>> | undefined;
    // A second Ctrl+C while stopping: the server is killed rather than waited for.
    const signals = untilStopped({ onRepeat: () => void server?.kill() });
    try {
      server = await restate.startLocalRestateServer({ dataDir, binary: binary.path });
      endpoint = await restate.serveRestateEndpoint({ services: restate.restateServices(), port });
      const { services } = await restate.registerDeployment(server.adminUrl, endpoint.url);
      const facts = {
        ingressUrl: server.ingressUrl,
        adminUrl: server.adminUrl,
        endpointUrl: endpoint.url,
        dataDir,
        dataDirKept: kept,
        services,
        serverVersion: binary.version,
      };
      if (values.json) io.out(JSON.stringify(facts));
      else printDev(io, facts);
      await signals.done;
      io.err('Stopping...');
      return 0;
    } finally {
      signals.dispose();
      await endpoint?.close();
      await server?.stop();
      if (!kept) await rm(dataDir, { recursive: true, force: true });
    }
  },
);

function printDev(
  io: CliIO,
  facts: {
    ingressUrl: string;
    adminUrl: string;
    endpointUrl: string;
    dataDir: string;
    dataDirKept: boolean;
    services: string[];
    serverVersion: string;
  },
): void {
  io.out(`restate-server ${facts.serverVersion} is running, with the dagent-sessions endpoint registered.`);
  io.out(`  Ingress:  ${facts.ingressUrl}`);
  io.out(`  Admin:    ${facts.adminUrl} (web UI at ${facts.adminUrl}/ui)`);
  io.out(`  Endpoint: ${facts.endpointUrl} (${facts.services.join(', ')})`);
  io.out(`  Data:     ${facts.dataDir}${facts.dataDirKept ? '' : ' (removed at exit)'}`);
  io.out('Try it:');
  io.out(
    `  curl -X POST ${facts.ingressUrl}/dagentCounter/demo/add -H 'content-type: application/json' -d 1`,
  );
  io.out(`  dagent-sessions list --restate ${facts.ingressUrl}`);
  io.out(`  createRestateSessionClient({ ingressUrl: '${facts.ingressUrl}' }) of dagent-sessions/restate`);
  io.out('Ctrl+C stops both.');
}

const serveCommand = defineCommand(
  {
    name: 'restate serve',
    usage: USAGE,
    options: { port: { type: 'string' }, host: { type: 'string' } },
  },
  async ({ values }, io) => {
    const port = intOption(values.port, '--port', 1);
    if (port === undefined) return usageError(io, 'restate serve', 'missing --port N');
    const restate = await loadRestate();
    const endpoint = await restate.serveRestateEndpoint({
      services: restate.restateServices(),
      port,
      host: values.host ?? '127.0.0.1',
    });
    const signals = untilStopped({ onRepeat: () => process.exit(1) });
    try {
      const reachable =
        endpoint.host === '0.0.0.0' || endpoint.host === '::'
          ? `http://<this machine's address>:${endpoint.port}`
          : endpoint.url;
      const names = restate.restateServices().map((s) => s.name);
      io.out(`Serving ${names.join(', ')} on ${endpoint.url} (Ctrl+C stops it).`);
      io.out('Register it with a Restate server, with its CLI:');
      io.out(`  restate deployments register ${reachable}`);
      io.out('or through its admin API (port 9070 by default):');
      io.out(
        `  curl -X POST http://<restate-host>:9070/deployments -H 'content-type: application/json' ` +
          `-d '{"uri":"${reachable}"}'`,
      );
      await signals.done;
      return 0;
    } finally {
      signals.dispose();
      await endpoint.close();
    }
  },
);

/** The bare `restate` command: help, and the usual errors for flags without a subcommand. */
const bareCommand = defineCommand({ name: 'restate', usage: USAGE, options: {} }, async (_input, io) =>
  usageError(io, 'restate', 'missing dev or serve'),
);

/**
 * `dagent-sessions restate dev|serve ...`: see the usage. Exit 0 once stopped by SIGINT or SIGTERM,
 * 1 for a usage error or a failure to start (the message says what to install or what failed).
 */
export const restateCommand: CliCommand = async (args, io) => {
  const [sub, ...rest] = args;
  if (sub === 'dev') return devCommand(rest, io);
  if (sub === 'serve') return serveCommand(rest, io);
  if (sub === undefined || sub.startsWith('-')) return bareCommand(args, io);
  return usageError(io, 'restate', `unknown subcommand ${JSON.stringify(sub)}; use dev or serve`);
};
