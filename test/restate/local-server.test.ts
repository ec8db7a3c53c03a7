/**
 * The pieces under the harness that need no running server: free loopback ports below the
 * ephemeral range, the binary found in node_modules, a start that fails saying why (no binary, a
 * port taken) and leaves no process, and `Promise.withResolvers` for Node 20.
 */
import { access, constants } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import { createLocalRestateServer } from '../../src/restate/local-server.js';
import { canBind, ephemeralRangeStart, freeLoopbackPorts } from '../../src/restate/loopback-ports.js';
import { ensurePromiseWithResolvers } from '../../src/restate/promise-with-resolvers.js';
import { resolveRestateServerBinary } from '../../src/restate/server-binary.js';
import { tempRoot } from '../helpers/temp-root.js';

/** Takes a port; whoever connects is hung up on at once (so closing it waits for nobody). */
function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('free loopback ports', () => {
  it('are distinct, free on 127.0.0.1, and below the ephemeral range', async () => {
    const ports = await freeLoopbackPorts(5);
    const low = await ephemeralRangeStart();
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10000);
      expect(port).toBeLessThan(low);
      expect(await canBind(port)).toBe(true);
    }
  });

  it('tells a port in use from a free one', async () => {
    const [port] = (await freeLoopbackPorts(1)) as [number];
    const taken = await listen(port);
    try {
      expect(await canBind(port)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    expect(await canBind(port)).toBe(true);
  });
});

describe('the restate-server binary', () => {
  it('is found in node_modules for this platform, executable, with its version', async () => {
    const binary = resolveRestateServerBinary();
    expect(binary.path).toContain(`restate-server-${process.platform}-${process.arch}`);
    expect(binary.version).toMatch(/^1\.7\.\d+$/);
    await access(binary.path, constants.X_OK);
  });
});

describe('a local restate-server that cannot start', () => {
  it('says there is no executable at a wrong path', async () => {
    const dataDir = await tempRoot('dagent-restate-');
    const [ingress, admin, fabric] = (await freeLoopbackPorts(3)) as [number, number, number];
    const server = createLocalRestateServer({
      dataDir,
      ports: { ingress, admin, fabric },
      binary: '/nonexistent/rs',
    });
    const failure = await server.start().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as SessionError).code).toBe('SESSION_UNAVAILABLE');
    expect((failure as SessionError).message).toContain('no restate-server executable at /nonexistent/rs');
    expect(server.running).toBe(false);
  });

  it('fails with the server’s own words when a port is taken, and leaves no process', async () => {
    const dataDir = await tempRoot('dagent-restate-');
    const [ingress, admin, fabric] = (await freeLoopbackPorts(3)) as [number, number, number];
    const taken = await listen(admin);
    try {
      const server = createLocalRestateServer({ dataDir, ports: { ingress, admin, fabric } });
      const failure = await server.start().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SessionError);
      expect((failure as SessionError).code).toBe('SESSION_UNAVAILABLE');
      expect((failure as SessionError).message).toContain('restate-server exited during start');
      expect(server.output()).toMatch(/address (already )?in use/i);
      expect(server.running).toBe(false);
      expect(server.lastExit?.code).not.toBe(0);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('Promise.withResolvers for Node 20', () => {
  it('is installed when missing, behaves as ES2024 says, and is left alone when present', async () => {
    const ctor = Promise as unknown as Record<string, unknown>;
    const own = Object.getOwnPropertyDescriptor(Promise, 'withResolvers');
    delete ctor.withResolvers;
    try {
      expect(ensurePromiseWithResolvers()).toBe(true);
      expect(ensurePromiseWithResolvers()).toBe(false);
      const descriptor = Object.getOwnPropertyDescriptor(Promise, 'withResolvers');
      expect(descriptor).toMatchObject({ enumerable: false, writable: true, configurable: true });

      type Resolvers<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (r?: unknown) => void };
      const make = ctor.withResolvers as <T>(this: PromiseConstructor) => Resolvers<T>;
      const ok = make.call<PromiseConstructor, [], Resolvers<number>>(Promise);
      ok.resolve(7);
      expect(await ok.promise).toBe(7);
      const bad = make.call<PromiseConstructor, [], Resolvers<number>>(Promise);
      bad.reject(new Error('no'));
      await expect(bad.promise).rejects.toThrow('no');

      class Tracked<T> extends Promise<T> {}
      const sub = make.call<PromiseConstructor, [], Resolvers<number>>(
        Tracked as unknown as PromiseConstructor,
      );
      expect(sub.promise).toBeInstanceOf(Tracked);
    } finally {
      if (own) Object.defineProperty(Promise, 'withResolvers', own);
      else delete ctor.withResolvers;
    }
  });
});
