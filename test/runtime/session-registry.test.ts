/**
 * The session registry, the one owner of a runtime's loaded sessions and of its lifecycle: which
 * sessions calls use (asked by the supervisor; a session's release is told), open ->
 * closing -> closed, calls racing a close, a creation racing a load of the same id, and a commit
 * in flight when close is called.
 */
import { describe, expect, it } from 'vitest';
import { SessionError } from '../../src/core/errors.js';
import type { SessionHandle } from '../../src/runtime/session-handle.js';
import { createSessionRegistry } from '../../src/runtime/session-registry.js';
import { resolveLimits } from '../../src/runtime/limits.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const closedError = () => new SessionError('RUNTIME_CLOSED', 'runtime', 'closed');

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function registryTelling(released: string[] = []) {
  return createSessionRegistry({ released: (id) => released.push(id), closedError });
}

/** Whether `promise` has settled by the end of the next turn of the event loop. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await turn();
  return settled;
}

const session = () => ({ dir: {} as SessionHandle, limits: resolveLimits(undefined) });

describe('calls on sessions', () => {
  it('tells nothing as calls start; tells a session released in the turn after its last call ended', async () => {
    const released: string[] = [];
    const registry = registryTelling(released);
    const a = registry.acquire('s');
    const b = registry.acquire('s');
    expect(released).toEqual([]);
    a();
    b();
    expect(released).toEqual([]);
    expect(registry.inUse('s')).toBe(true); // until the next turn
    await turn();
    expect(released).toEqual(['s']);
    expect(registry.inUse('s')).toBe(false);
  });

  it('hands the session over to a call made before the end of the turn (awaited calls one after another)', async () => {
    const released: string[] = [];
    const registry = registryTelling(released);
    for (let i = 0; i < 5; i++) {
      const release = registry.acquire('s');
      await Promise.resolve();
      release();
      expect(registry.inUse('s')).toBe(true);
    }
    expect(released).toEqual([]);
    await turn();
    expect(released).toEqual(['s']);
  });

  it('answers which sessions calls use, and orders them by last use', async () => {
    const released: string[] = [];
    const registry = registryTelling(released);
    expect(registry.inUse('a')).toBe(false);
    expect(registry.lastUsed('a')).toBe(0);
    // Loaded, as the sessions the supervisor asks about are: their entries are kept.
    registry.load('a', session());
    registry.load('b', session());
    const a = registry.acquire('a');
    const b = registry.acquire('b');
    expect([registry.inUse('a'), registry.inUse('b')]).toEqual([true, true]);
    expect(registry.lastUsed('a')).toBeLessThan(registry.lastUsed('b'));
    a();
    a(); // a second call of a release changes nothing
    await turn();
    expect(registry.inUse('a')).toBe(false);
    // Ending a call is a use: a was used after b started.
    expect(registry.lastUsed('a')).toBeGreaterThan(registry.lastUsed('b'));
    const a2 = registry.acquire('a');
    expect(registry.inUse('a')).toBe(true);
    b();
    a2();
    await turn();
    expect(released).toEqual(['a', 'b', 'a']);
    expect([registry.inUse('a'), registry.inUse('b')]).toEqual([false, false]);
  });

  it('keeps the last use of a session whose actor is loaded; forgets a session that holds nothing', async () => {
    const registry = registryTelling();
    registry.load('s', session());
    registry.acquire('s')();
    registry.acquire('t')();
    await turn();
    expect(registry.lastUsed('s')).toBeGreaterThan(0);
    expect(registry.lastUsed('t')).toBe(0);
  });
});

describe('lifecycle: open -> closing -> closed', () => {
  it('refuses new calls from closing on, lets calls already made run until closed, and closes once', async () => {
    const registry = registryTelling();
    expect(registry.state).toBe('open');
    const release = registry.acquire('s');
    let stops = 0;
    const closing = registry.closeAll(async () => {
      stops += 1;
    });
    expect(registry.state).toBe('closing');
    // A call already made still reaches its session while the runtime is closing...
    expect(() => registry.assertRunning()).not.toThrow();
    // ...and a new one, on a session or not, is refused with the closed error.
    expect(() => registry.acquire('s')).toThrow(/closed/);
    expect(() => registry.acquire()).toThrow(SessionError);
    expect(await settledSoon(closing)).toBe(false);
    release();
    await closing;
    expect(registry.state).toBe('closed');
    expect(stops).toBe(1);
    expect(() => registry.assertRunning()).toThrow(/closed/);
    expect(() => registry.acquire('s')).toThrow(/closed/);
    // A second close returns at once and stops nothing again.
    await registry.closeAll(async () => {
      stops += 1;
    });
    expect(stops).toBe(1);
  });

  it('waits for every call in flight, on sessions or not, and refuses acquires made during close', async () => {
    const registry = registryTelling();
    const releases = [registry.acquire('a'), registry.acquire('b'), registry.acquire()];
    const order: string[] = [];
    const closing = registry.closeAll(async () => {
      order.push('stop');
    });
    const refused = await Promise.allSettled(
      ['a', 'b', 'c', undefined].map(async (id) => {
        await Promise.resolve();
        return registry.acquire(id);
      }),
    );
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    for (const release of releases) {
      expect(await settledSoon(closing)).toBe(false);
      order.push('release');
      release();
    }
    await closing;
    expect(order).toEqual(['release', 'release', 'release', 'stop']);
  });
});

describe('a commit in flight when close is called', () => {
  it('close waits for it before stopping, and unloading a session waits for it too', async () => {
    const registry = registryTelling();
    registry.load('s', session());
    const commit = deferred<string>();
    const committed = registry.whileCommitting('s', commit.promise);
    let stopped = false;
    const closing = registry.closeAll(async () => {
      stopped = true;
    });
    const unloading = registry.unload('s', async () => undefined);
    expect(await settledSoon(closing)).toBe(false);
    expect(await settledSoon(unloading)).toBe(false);
    expect(stopped).toBe(false);
    expect(registry.entry('s')).toBeDefined();
    commit.resolve('written');
    expect(await committed).toBe('written');
    await Promise.all([closing, unloading]);
    expect(stopped).toBe(true);
    expect(registry.entry('s')).toBeUndefined();
  });

  it('a failed commit does not keep close waiting; a session whose close fails is forgotten', async () => {
    const registry = registryTelling();
    registry.load('s', session());
    const commit = deferred();
    const committed = registry.whileCommitting('s', commit.promise);
    commit.reject(new Error('disk full'));
    await expect(committed).rejects.toThrow('disk full');
    await expect(
      registry.unload('s', async () => {
        throw new Error('cannot write the record');
      }),
    ).rejects.toThrow('cannot write the record');
    expect(registry.entry('s')).toBeUndefined();
    await registry.closeAll(async () => undefined);
    expect(registry.state).toBe('closed');
  });
});

describe('a creation racing a load of the same id', () => {
  it('writes the session once for concurrent creations, and a load waits for the write', async () => {
    const registry = registryTelling();
    const write = deferred();
    let writes = 0;
    const make = () => {
      writes += 1;
      return write.promise;
    };
    const first = registry.create('s', make);
    const second = registry.create('s', make);
    expect(second).toBe(first);
    const loaded = registry.created('s');
    expect(await settledSoon(loaded)).toBe(false);
    write.resolve();
    await Promise.all([first, second, loaded]);
    expect(writes).toBe(1);
    // Once written, a new creation writes again (the writer finds the session there).
    await registry.create('s', async () => {
      writes += 1;
    });
    expect(writes).toBe(2);
  });

  it('a failed write ends the wait of a load without its error, and the next creation tries again', async () => {
    const registry = registryTelling();
    const failing = registry.create('s', async () => {
      await Promise.resolve();
      throw new Error('no space');
    });
    const loaded = registry.created('s');
    await expect(failing).rejects.toThrow('no space');
    await expect(loaded).resolves.toBeUndefined();
    let wrote = false;
    await registry.create('s', async () => {
      wrote = true;
    });
    expect(wrote).toBe(true);
  });
});

describe('states seen', () => {
  it('returns the state before, starting from closed, and forgets a session once it is closed', () => {
    const registry = registryTelling();
    expect(registry.noteState('s', 'loading')).toBe('closed');
    expect(registry.noteState('s', 'idle')).toBe('loading');
    expect(registry.noteState('t', 'idle')).toBe('closed');
    expect(registry.noteState('s', 'compacting')).toBe('idle');
    expect(registry.noteState('s', 'closed')).toBe('compacting');
    // Reopened later: it starts from closed again, and other sessions kept theirs.
    expect(registry.noteState('s', 'loading')).toBe('closed');
    expect(registry.noteState('t', 'appending')).toBe('idle');
  });
});
