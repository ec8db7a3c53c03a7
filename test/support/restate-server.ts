/**
 * A real restate-server for tests, one per test file: `useRestateServer()` starts it in
 * `beforeAll` (the binary from node_modules, every listener on 127.0.0.1, a temporary data
 * directory) and stops it and removes the directory in `afterAll`. Between the two a test can
 * register endpoints, kill the server (SIGKILL), stop it (SIGTERM) and start it again on the same
 * directory and ports.
 *
 * Endpoints come two ways: in this process (`serveRestateEndpoint`, closed by the test), or in a
 * child process (`startChildEndpoint`) that a test can SIGKILL and start again on the same port,
 * and that talks to the test over IPC (test/support/restate-endpoint-child.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { freeLoopbackPorts } from '../../src/restate/loopback-ports.js';
import { registerDeployment, type RegisteredDeployment } from '../../src/restate/admin-api.js';
import { startLocalRestateServer, type LocalRestateServer } from '../../src/restate/local-server.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'restate-endpoint-child.ts');

/** The file's server, usable once `beforeAll` has run. */
export interface RestateTestServer {
  readonly server: LocalRestateServer;
  readonly ingressUrl: string;
  readonly adminUrl: string;
  /** Milliseconds from spawn to ready, of the first start. */
  readonly startMs: number;
  /** Registers an endpoint (forcing over an earlier registration at the same URL). */
  register(endpointUrl: string): Promise<RegisteredDeployment>;
  /** SIGKILL, then start again on the same data directory and ports. */
  killAndRestart(): Promise<void>;
  /** SIGTERM (SIGKILL after the grace), then start again. */
  stopAndRestart(): Promise<void>;
}

/**
 * Starts a restate-server for the current test file (in `beforeAll`) and stops it after the file
 * (in `afterAll`). The server's last lines are printed when it fails to start.
 *
 * @example
 * ```ts
 * const restate = useRestateServer();
 * it('...', async () => { await restate.register(endpoint.url); });
 * ```
 */
export function useRestateServer(): RestateTestServer {
  let server: LocalRestateServer | undefined;
  let dataDir: string | undefined;
  let startMs = 0;
  const current = (): LocalRestateServer => {
    if (server === undefined) throw new Error('useRestateServer: the server starts in beforeAll');
    return server;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'dagent-restate-test-'));
    const began = performance.now();
    server = await startLocalRestateServer({ dataDir });
    startMs = performance.now() - began;
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  return {
    get server() {
      return current();
    },
    get ingressUrl() {
      return current().ingressUrl;
    },
    get adminUrl() {
      return current().adminUrl;
    },
    get startMs() {
      return startMs;
    },
    register: (endpointUrl) => registerDeployment(current().adminUrl, endpointUrl),
    killAndRestart: async () => {
      await current().kill();
      await current().start();
    },
    stopAndRestart: async () => {
      await current().stop();
      await current().start();
    },
  };
}

/** A message an endpoint child sent over IPC. */
export type ChildMessage = { type: string } & Record<string, unknown>;

/** An endpoint served by a child process. */
export interface ChildEndpoint {
  readonly url: string;
  readonly port: number;
  /** The child's pid while it runs. */
  readonly pid: number | undefined;
  /** Every IPC message of every life of the child, in order. */
  readonly messages: ChildMessage[];
  /** Resolves with the first message (past or future) that `match` accepts. */
  waitForMessage(match: (message: ChildMessage) => boolean): Promise<ChildMessage>;
  /** Sends a message to the running child. */
  send(message: ChildMessage): void;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with `env` replacing the extra environment it had. */
  restart(env?: Record<string, string>): Promise<void>;
  /** Asks it to close its server and exit; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Options of {@link startChildEndpoint}. */
export interface ChildEndpointOptions {
  /** The module (a path) whose `services` export the child serves. */
  module: string;
  /** Extra environment of the child (for the services module to read). */
  env?: Record<string, string>;
}

/**
 * Serves a module's `services` from a child process (`node --import tsx`) on a free loopback port,
 * resolving once it listens. The child reports over IPC; the services module can use
 * `process.send` and `process.on('message')` to talk to the test.
 *
 * @example
 * ```ts
 * const endpoint = await startChildEndpoint({ module: FIXTURE, env: { HOLD: 'a' } });
 * await restate.register(endpoint.url);
 * await endpoint.kill();
 * await endpoint.restart();
 * ```
 */
export async function startChildEndpoint(options: ChildEndpointOptions): Promise<ChildEndpoint> {
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const messages: ChildMessage[] = [];
  const waiters: { match: (m: ChildMessage) => boolean; resolve: (m: ChildMessage) => void }[] = [];
  let env = options.env ?? {};
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();

  const deliver = (message: ChildMessage): void => {
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  };
  const waitForMessage = (match: (m: ChildMessage) => boolean): Promise<ChildMessage> => {
    const seen = messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };

  const start = async (): Promise<void> => {
    const began = messages.length;
    let stderr = '';
    const started = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        // The SDK's console logger says INFO per invocation; errors are what a test needs to see.
        RESTATE_LOGGING: process.env.RESTATE_LOGGING ?? 'ERROR',
        ...env,
        DAGENT_ENDPOINT_MODULE: options.module,
        DAGENT_ENDPOINT_PORT: String(port),
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    child = started;
    started.stderr?.setEncoding('utf8');
    started.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    started.on('message', (message: ChildMessage) => deliver(message));
    exited = once(started, 'exit').catch(() => undefined);
    const listening = waitForMessage((m) => m.type === 'listening' && messages.indexOf(m) >= began);
    const outcome = await Promise.race([listening, exited.then(() => 'exited' as const)]);
    if (outcome === 'exited') throw new Error(`the endpoint child exited before listening:\n${stderr}`);
  };

  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    messages,
    waitForMessage,
    send: (message) => {
      child?.send(message);
    },
    kill: async () => {
      child?.kill('SIGKILL');
      await exited;
    },
    restart: async (next) => {
      if (next !== undefined) env = next;
      await start();
    },
    stop: async () => {
      if (child?.connected) child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** A listening or bound socket of a process, from /proc (Linux). */
export interface ProcessSocket {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
}

/** The decimal address of a /proc/net hex address (`0100007F` is 127.0.0.1; IPv6 stays hex). */
function procAddress(hex: string, protocol: string): string {
  if (protocol.endsWith('6')) return hex;
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
}

/**
 * The TCP sockets a process listens on and the UDP sockets it has bound, read from /proc: the
 * inodes of its file descriptors matched against /proc/<pid>/net/{tcp,tcp6,udp,udp6}.
 */
export async function listeningSockets(pid: number): Promise<ProcessSocket[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  const found: ProcessSocket[] = [];
  for (const protocol of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const table = await readFile(`/proc/${pid}/net/${protocol}`, 'utf8');
    for (const row of table.trim().split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (local === undefined || inode === undefined || !inodes.has(inode)) continue;
      // TCP: 0A is LISTEN. UDP has no listen state: any bound socket counts.
      if (protocol.startsWith('tcp') && state !== '0A') continue;
      const [hex, portHex] = local.split(':') as [string, string];
      found.push({ protocol, address: procAddress(hex, protocol), port: parseInt(portHex, 16) });
    }
  }
  return found;
}

/** The resident memory of a process in bytes (VmRSS, Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}
