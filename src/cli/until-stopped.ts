/**
 * @internal How the commands that serve until stopped (`demo`, `inspect`, `restate dev|serve`)
 * wait for Ctrl+C: one rule for all of them.
 *
 * The first SIGINT or SIGTERM (or `signal`'s abort, for tests) ends the wait; the command then
 * closes its sessions and, for the demo, removes its temporary root. A second signal must not cut
 * that short: without a listener, Node ends the process at once (a terminal's Ctrl+C pressed twice,
 * or a tsx parent relaying the same Ctrl+C the child got itself, which left the demo's root
 * behind). So each later signal calls `onRepeat` instead (a command that can stop faster does so;
 * by default a line says what it waits for), and once a signal came, the listeners stay until the
 * process ends, `dispose` or not.
 */

/** The wait: `done` resolves with the signal's name (`'abort'` for `signal`). */
export interface StopWait {
  done: Promise<string>;
  /** Removes the listeners, unless a signal came (then they cover the rest of the stopping). */
  dispose(): void;
}

/** Options of {@link untilStopped}. */
export interface UntilStoppedOptions {
  /** Ends the wait too (tests). */
  signal?: AbortSignal | undefined;
  /** Called on each signal after the first; by default a line on stderr. */
  onRepeat?: () => void;
}

const STILL_STOPPING =
  'dagent-sessions: still stopping (the sessions finish their writes and close); kill -9 would end it at ' +
  'once and lose no acknowledged message\n';

/**
 * Waits for the first SIGINT or SIGTERM, or `options.signal`'s abort.
 * @example
 * const stop = untilStopped({ signal: options.stop });
 * try { await stop.done; } finally { stop.dispose(); await server.close(); }
 */
export function untilStopped(options: UntilStoppedOptions = {}): StopWait {
  const onRepeat = options.onRepeat ?? (() => void process.stderr.write(STILL_STOPPING));
  let signalled = false;
  let resolve!: (name: string) => void;
  const done = new Promise<string>((r) => (resolve = r));
  const onSignal = (name: NodeJS.Signals): void => {
    if (signalled) return onRepeat();
    signalled = true;
    resolve(name);
  };
  const onAbort = () => resolve('abort');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) resolve('abort');
  return {
    done,
    dispose() {
      options.signal?.removeEventListener('abort', onAbort);
      if (signalled) return;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
