/**
 * `Promise.withResolvers` for Node 20. The Restate SDK (1.15 and later) calls it on every
 * invocation; Node has it from 22. No SDK release both runs on Node 20 and has the fixes the
 * session object needs (1.14.2 loses wake-ups of parallel `ctx.run`, restatedev/sdk-typescript
 * #724; 1.14.4-1.14.5 crash on them, #743), so the `dagent-sessions/restate` entry installs this
 * standard method when it is missing, before it creates anything the SDK runs. Nothing else in the
 * package loads it.
 */

/** The shape of `Promise.withResolvers` (ES2024; this project compiles against ES2023). */
interface WithResolvers {
  withResolvers?<T>(): {
    promise: Promise<T>;
    resolve: (value: T) => void;
    reject: (reason?: unknown) => void;
  };
}

/**
 * Installs `Promise.withResolvers` as ES2024 defines it when the running Node lacks it (Node 20);
 * a no-op on Node 22 and later. Idempotent. Every factory of `dagent-sessions/restate` calls it,
 * so an endpoint built from them works on Node 20 without a flag.
 *
 * @returns whether it installed the method (false when Node already had it).
 * @example
 * ```ts
 * ensurePromiseWithResolvers();
 * const { promise, resolve } = (Promise as any).withResolvers();
 * ```
 */
export function ensurePromiseWithResolvers(): boolean {
  const ctor = Promise as PromiseConstructor & WithResolvers;
  if (typeof ctor.withResolvers === 'function') return false;
  Object.defineProperty(Promise, 'withResolvers', {
    // Non-enumerable, writable and configurable, like the built-in methods of Promise.
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      // `this`, as the built-in does, so a subclass gets its own kind of promise.
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
  return true;
}
