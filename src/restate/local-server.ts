/**
 * A restate-server of our own on this machine: the binary from node_modules, every listener on
 * 127.0.0.1 (ingress, admin and the node-to-node fabric; no Unix sockets), a data directory the
 * caller owns, readiness known from the server's health endpoints, and a way to stop it (SIGTERM,
 * then SIGKILL), kill it (SIGKILL) and start it again on the same directory and ports. Used by
 * `dagent-sessions restate dev` and by the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { SessionError } from '../core/errors.js';
import { freeLoopbackPorts } from './loopback-ports.js';
import { resolveRestateServerBinary } from './server-binary.js';

/** The three TCP ports a restate-server listens on. */
export interface RestatePorts {
  /** The HTTP ingress: where clients call handlers. */
  ingress: number;
  /** The admin API: registration of endpoints, introspection, the web UI. */
  admin: number;
  /** Node-to-node communication (one node here, but it listens all the same). */
  fabric: number;
}

/** Options of {@link createLocalRestateServer}. */
export interface LocalRestateServerOptions {
  /** Restate's data directory (created when missing); the caller removes it. */
  dataDir: string;
  /** Its ports; {@link startLocalRestateServer} picks free ones when absent. */
  ports: RestatePorts;
  /** The executable; default the one of `@restatedev/restate-server` ({@link resolveRestateServerBinary}). */
  binary?: string;
  /** Partitions of a new cluster (only the first start counts); default 4, enough on one machine. */
  partitions?: number;
  /** How long a start may take before it fails; default 60 s. */
  readyTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL; default 10 s. */
  stopGraceMs?: number;
  /** Each line the server prints (stdout and stderr); the last 200 are kept either way. */
  onOutput?: (line: string) => void;
  /** Further environment (`RESTATE_*` settings) for the server. */
  env?: Record<string, string>;
}

/** A local restate-server, started or not. */
export interface LocalRestateServer {
  readonly dataDir: string;
  readonly ports: RestatePorts;
  /** `http://127.0.0.1:<ingress>`: where clients call handlers. */
  readonly ingressUrl: string;
  /** `http://127.0.0.1:<admin>`: the admin API. */
  readonly adminUrl: string;
  /** The server's pid while it runs. */
  readonly pid: number | undefined;
  /** Whether the process runs. */
  readonly running: boolean;
  /** How the last run ended (undefined before the first exit): a graceful stop is code 0, no signal. */
  readonly lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** The last lines it printed, for error messages. */
  output(): string;
  /** Spawns it and resolves once both its admin and ingress health endpoints answer 200. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL when it has not exited within the grace; resolves once it has exited. */
  stop(): Promise<void>;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
}

const KEPT_LINES = 200;
const POLL_MS = 20;

/**
 * The environment of the server: the parent's without its `RESTATE_*` and `RUST_LOG` settings
 * (a developer's own configuration must not move our ports or data), then ours.
 */
function serverEnv(options: LocalRestateServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RESTATE_') && key !== 'RUST_LOG') env[key] = value;
  }
  return {
    ...env,
    // TCP only: no Unix sockets in the data directory (their paths have a 108-byte limit).
    RESTATE_LISTEN_MODE: 'tcp',
    RESTATE_BIND_IP: '127.0.0.1',
    RESTATE_ADVERTISED_HOST: '127.0.0.1',
    RESTATE_BIND_PORT: String(options.ports.fabric),
    RESTATE_INGRESS__BIND_PORT: String(options.ports.ingress),
    RESTATE_ADMIN__BIND_PORT: String(options.ports.admin),
    // A fixed node name: a restart finds its node directory whatever the host is called.
    RESTATE_NODE_NAME: 'dagent-local',
    RESTATE_DEFAULT_NUM_PARTITIONS: String(options.partitions ?? 4),
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_LOG_FORMAT: 'compact',
    RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
    // The server asks GitHub for its latest release at start, in the background; offline that
    // only logs an error from its GitHub client (octocrab), which says nothing about our setup.
    RESTATE_LOG_FILTER: 'warn,restate=info,octocrab=off',
    ...options.env,
  };
}

/**
 * When util-linux's `setpriv` is there (Linux), the server is started through it with a
 * parent-death signal, so that a killed test or CLI process does not leave a server behind.
 */
function launcher(binary: string, args: string[]): { file: string; args: string[] } {
  const setpriv = '/usr/bin/setpriv';
  if (process.platform === 'linux' && existsSync(setpriv)) {
    return { file: setpriv, args: ['--pdeathsig', 'KILL', '--', binary, ...args] };
  }
  return { file: binary, args };
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * A local restate-server, not started yet: see {@link LocalRestateServer}. Ports are taken as
 * given; {@link startLocalRestateServer} picks free ones and starts it.
 *
 * @param options - data directory, ports, and optional binary, partitions, timeouts and output.
 * @returns the server; call `start()`.
 * @example
 * ```ts
 * const server = createLocalRestateServer({ dataDir, ports: { ingress: 18080, admin: 19070, fabric: 15122 } });
 * await server.start();
 * await server.kill();
 * await server.start(); // same data, same ports
 * ```
 */
export function createLocalRestateServer(options: LocalRestateServerOptions): LocalRestateServer {
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  const keep = (line: string): void => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
    options.onOutput?.(line);
  };
  const pipeLines = (stream: NodeJS.ReadableStream): void => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) if (line.length > 0) keep(line);
    });
    stream.on('end', () => {
      if (rest.length > 0) keep(rest);
      rest = '';
    });
  };

  const ingressUrl = `http://127.0.0.1:${options.ports.ingress}`;
  const adminUrl = `http://127.0.0.1:${options.ports.admin}`;
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const unavailable = (what: string, details: Record<string, unknown> = {}): SessionError =>
    new SessionError('SESSION_UNAVAILABLE', 'runtime', `restate: ${what}\n${lines.slice(-20).join('\n')}`, {
      retryable: true,
      details: { dataDir: options.dataDir, ports: options.ports, ...details },
    });

  async function waitUntilReady(proc: ChildProcess): Promise<void> {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    let gone = false;
    void exited.then(() => (gone = true));
    for (;;) {
      if (gone || proc.exitCode !== null || proc.signalCode !== null) {
        throw unavailable(
          `restate-server exited during start (code ${proc.exitCode}, signal ${proc.signalCode}); its last lines:`,
          { exitCode: proc.exitCode, signal: proc.signalCode },
        );
      }
      // Raced with the exit, so that a server that died is seen at once even when something else
      // on its port holds a health check.
      const healthy = Promise.all([
        answers200(`${adminUrl}/health`),
        answers200(`${ingressUrl}/restate/health`),
      ]);
      if ((await Promise.race([healthy, exited.then(() => [false])])).every(Boolean)) return;
      if (Date.now() > deadline) {
        throw unavailable(
          `restate-server was not ready after ${options.readyTimeoutMs ?? 60_000} ms; its last lines:`,
        );
      }
      await Promise.race([delay(POLL_MS), exited]);
    }
  }

  async function signalAndWait(signal: NodeJS.Signals, graceMs?: number): Promise<void> {
    const current = child;
    if (current === undefined || !running()) return exited;
    current.kill(signal);
    if (graceMs === undefined) return exited;
    // The grace timer is cancelled once the server has exited: a pending timer would keep a
    // command that has finished alive for the rest of the grace.
    const cancel = new AbortController();
    const late = delay(graceMs, 'late' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const);
    const first = await Promise.race([exited.then(() => 'exited' as const), late]);
    cancel.abort();
    if (first === 'late') {
      current.kill('SIGKILL');
      await exited;
    }
  }

  return {
    dataDir: options.dataDir,
    ports: options.ports,
    ingressUrl,
    adminUrl,
    get pid() {
      return running() ? child?.pid : undefined;
    },
    get running() {
      return running();
    },
    get lastExit() {
      return lastExit;
    },
    output: () => lines.join('\n'),

    async start() {
      if (running())
        throw new SessionError('INVALID_ARGUMENT', 'runtime', 'restate: the server is already running');
      const binary = options.binary ?? resolveRestateServerBinary().path;
      if (!existsSync(binary)) {
        throw new SessionError(
          'SESSION_UNAVAILABLE',
          'runtime',
          `restate: no restate-server executable at ${binary}`,
          {
            details: { binary },
          },
        );
      }
      const { file, args } = launcher(binary, ['--no-logo', '--base-dir', options.dataDir]);
      const started = spawn(file, args, { env: serverEnv(options), stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      exited = once(started, 'exit').then(
        (args: unknown[]) => {
          lastExit = { code: args[0] as number | null, signal: args[1] as NodeJS.Signals | null };
        },
        () => undefined,
      );
      const spawnError = once(started, 'spawn').then(
        () => null,
        (error: unknown) => error,
      );
      pipeLines(started.stdout);
      pipeLines(started.stderr);
      const error = await spawnError;
      if (error !== null) {
        throw new SessionError(
          'SESSION_UNAVAILABLE',
          'runtime',
          `restate: cannot run ${binary}: ${String(error)}`,
          {
            cause: error,
            details: { binary },
          },
        );
      }
      try {
        await waitUntilReady(started);
      } catch (failure) {
        await signalAndWait('SIGKILL');
        throw failure;
      }
    },
    stop: () => signalAndWait('SIGTERM', options.stopGraceMs ?? 10_000),
    kill: () => signalAndWait('SIGKILL'),
  };
}

/** Options of {@link startLocalRestateServer}: those of {@link createLocalRestateServer}, ports optional. */
export type StartLocalRestateServerOptions = Omit<LocalRestateServerOptions, 'ports'> & {
  ports?: RestatePorts;
};

/**
 * Picks free loopback ports (unless given), starts a local restate-server on `dataDir` and
 * resolves once it is ready. When another process takes a picked port before the server binds
 * it, it tries again with new ports (three times).
 *
 * @param options - see {@link LocalRestateServerOptions}; `ports` optional.
 * @returns the running server.
 * @throws SessionError `SESSION_UNAVAILABLE` when the binary is missing, or the server exits or is not
 *   ready in time (the message ends with its last lines).
 * @example
 * ```ts
 * const dataDir = await mkdtemp(path.join(os.tmpdir(), 'restate-'));
 * const server = await startLocalRestateServer({ dataDir });
 * console.log(server.ingressUrl);
 * await server.stop();
 * ```
 */
export async function startLocalRestateServer(
  options: StartLocalRestateServerOptions,
): Promise<LocalRestateServer> {
  const tries = options.ports === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const [ingress, admin, fabric] = options.ports
      ? [options.ports.ingress, options.ports.admin, options.ports.fabric]
      : ((await freeLoopbackPorts(3)) as [number, number, number]);
    const server = createLocalRestateServer({ ...options, ports: { ingress, admin, fabric } });
    try {
      await server.start();
      return server;
    } catch (error) {
      const portTaken = /address already in use|AddrInUse/i.test(server.output());
      if (!portTaken || attempt >= tries) throw error;
    }
  }
}
