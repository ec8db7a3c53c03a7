/**
 * The Restate harness, proved on a real restate-server (one for this file) and a counter object
 * served by a child process: everything listens on 127.0.0.1 only; a call through the ingress
 * completes exactly once when the service is SIGKILLed in the middle of it and started again; a
 * call in flight when the server is SIGKILLed completes once after a restart, re-attached by its
 * idempotency key; a server killed and restarted on its data directory keeps state and
 * registration; a SIGTERM stops it gracefully.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as clients from '@restatedev/restate-sdk-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listeningSockets,
  residentBytes,
  startChildEndpoint,
  useRestateServer,
  type ChildEndpoint,
  type ChildMessage,
} from '../support/restate-server.js';
import type { gatedCounter } from './fixtures/gated-counter.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'gated-counter.ts');
const COUNTER = { name: 'gatedCounter' } as typeof gatedCounter;

const restate = useRestateServer();
let endpoint: ChildEndpoint;

beforeAll(async () => {
  endpoint = await startChildEndpoint({ module: FIXTURE });
  const registered = await restate.register(endpoint.url);
  expect(registered.services).toEqual(['gatedCounter']);
});

afterAll(async () => {
  await endpoint?.stop();
});

/** Makes calls on `key` wait at the gate of the running child, once the child says so. */
async function hold(key: string): Promise<void> {
  const before = endpoint.messages.length;
  endpoint.send({ type: 'hold', key });
  await endpoint.waitForMessage(
    (m) => m.type === 'holding' && m.key === key && endpoint.messages.indexOf(m) >= before,
  );
}

/** Resolves once a call on `key` has entered the gate in the child with `pid`. */
function entered(key: string, pid: number | undefined): Promise<ChildMessage> {
  return endpoint.waitForMessage(
    (m) => m.type === 'gate' && m.phase === 'entered' && m.key === key && m.pid === pid,
  );
}

function gateLog(key: string): string[] {
  return endpoint.messages
    .filter((m) => m.type === 'gate' && m.key === key)
    .map((m) => `${String(m.phase)} ${String(m.amount)}`);
}

describe('a restate-server from node_modules, with a child endpoint', () => {
  it('listens on 127.0.0.1 only: the three ports of the server, the one of the endpoint', async () => {
    const pid = restate.server.pid;
    expect(pid).toBeDefined();
    const server = await listeningSockets(pid as number);
    const { ingress, admin, fabric } = restate.server.ports;
    expect(server.map((s) => `${s.protocol} ${s.address}:${s.port}`).sort()).toEqual(
      [ingress, admin, fabric].map((port) => `tcp 127.0.0.1:${port}`).sort(),
    );
    const child = await listeningSockets(endpoint.pid as number);
    expect(child.map((s) => `${s.protocol} ${s.address}:${s.port}`)).toEqual([
      `tcp 127.0.0.1:${endpoint.port}`,
    ]);
    console.log(
      `restate-server: ready ${Math.round(restate.startMs)} ms after spawn, ` +
        `RSS ${Math.round((await residentBytes(pid as number)) / 2 ** 20)} MiB once ready`,
    );
  });

  it('completes a call once when the service is SIGKILLed inside it and started again', async () => {
    const ingress = clients.connect({ url: restate.ingressUrl });
    const counter = ingress.objectClient(COUNTER, 'a');
    await hold('a');
    const firstPid = endpoint.pid;
    const call = counter.add(5);
    await entered('a', firstPid);

    await endpoint.kill();
    await endpoint.restart();
    expect(endpoint.pid).not.toBe(firstPid);

    await expect(call).resolves.toBe(5);
    expect(await counter.get()).toBe(5);
    // The step inside the call ran in both lives of the service; its write happened once.
    expect(gateLog('a')).toEqual(['entered 5', 'entered 5', 'passed 5']);
    expect(await counter.add(1)).toBe(6);
  });

  it(
    'completes a call once when the server is SIGKILLed inside it: ' +
      'the client re-attaches by idempotency key',
    async () => {
      const ingress = clients.connect({
        url: restate.ingressUrl,
        retry: { initialInterval: 50, maxInterval: 500 },
      });
      const counter = ingress.objectClient(COUNTER, 'b');
      const opts = clients.rpc.opts<number, number>({ idempotencyKey: 'add-10-to-b' });
      await hold('b');
      const call = counter.add(10, opts);
      await entered('b', endpoint.pid);

      const killedPid = restate.server.pid;
      await restate.killAndRestart();
      expect(restate.server.lastExit).toEqual({ code: null, signal: 'SIGKILL' });
      expect(restate.server.pid).not.toBe(killedPid);
      endpoint.send({ type: 'open', key: 'b' });

      await expect(call).resolves.toBe(10);
      expect(await counter.get()).toBe(10);
      // The same key again: the recorded result, nothing added.
      expect(await counter.add(10, opts)).toBe(10);
      expect(await counter.get()).toBe(10);
    },
  );

  it('keeps state and the registration when SIGKILLed and restarted on its data directory', async () => {
    await restate.killAndRestart();
    const ingress = clients.connect({ url: restate.ingressUrl });
    expect(await ingress.objectClient(COUNTER, 'a').get()).toBe(6);
    expect(await ingress.objectClient(COUNTER, 'b').get()).toBe(10);
    // Not registered again: the server remembers the endpoint.
    expect(await ingress.objectClient(COUNTER, 'a').add(1)).toBe(7);
  });

  it('stops gracefully on SIGTERM and starts again with its state', async () => {
    await restate.stopAndRestart();
    expect(restate.server.lastExit).toEqual({ code: 0, signal: null });
    const ingress = clients.connect({ url: restate.ingressUrl });
    expect(await ingress.objectClient(COUNTER, 'a').get()).toBe(7);
  });
});
