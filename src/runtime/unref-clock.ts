/**
 * @internal The runtime's clock when none is given: Node's timers, unref'd. XState runs the
 * supervisor's idle sweep, a session's retry backoff and its compaction timeout on the clock of
 * the actor system; with this one, none of them keeps the process alive, so that a script that
 * never calls `close()` still ends when its own work is done.
 *
 * Work in flight is not cut short by that: a compaction holds the process through its own I/O
 * (the compactor's HTTP request, the store's writes) and ends, committed, before the process
 * exits. Only waiting is given up: a retry after a failed compaction, or an idle session's
 * unloading, which nothing on disk depends on (a failed compaction changed nothing; the session
 * compacts again when it is next loaded over its threshold).
 */
import type { Clock } from './types.js';

/** @internal Timers that do not keep the process alive. */
export const unrefClock: Clock = {
  setTimeout(fn, timeout) {
    const timer = setTimeout(fn, timeout);
    timer.unref();
    return timer;
  },
  clearTimeout(id) {
    clearTimeout(id as ReturnType<typeof setTimeout>);
  },
};
