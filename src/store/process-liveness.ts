/**
 * @internal Whether the process named in a lock file still runs, from facts about the platform
 * passed in (so that every platform's answer is testable on any of them).
 *
 * What each platform tells, and what we do with it:
 * - **Linux** (`/proc`): `kill(pid, 0)` says whether the pid is in use (ESRCH: it is not; EPERM:
 *   a process of another user has it), and field 22 of `/proc/PID/stat` is the process's start
 *   time in clock ticks since boot. A pid in use with another start time than the holder recorded
 *   is a reused pid: the holder is dead.
 * - **macOS and the BSDs** (no `/proc`): `kill(pid, 0)` means the same, but there is no start
 *   time without spawning `ps`. A pid in use is taken as the holder, alive.
 * - **Windows**: Node's `kill(pid, 0)` opens the process (libuv `uv_kill`): ESRCH when no
 *   process has the pid or it has exited, EPERM when it belongs to another user or is elevated.
 *   Windows reuses pids soon, and gives no start time here either: a pid in use is taken as alive.
 * - **Another host** (a shared folder): nothing can be known; taken as alive.
 *
 * "Taken as alive" is the safe mistake: the lock is refused, never taken from a live writer. The
 * answer says why, and when the lock predates the machine's last boot it says that the holder is
 * almost surely gone, so that the refusal can tell the user to delete the lock file.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { isErrno } from './durable-fs.js';

/** What a liveness check needs to know about the platform it runs on. */
export interface PlatformFacts {
  platform: NodeJS.Platform;
  hostname: string;
  /** Reads `/proc/PID/stat` (null when there is no such process); absent where there is no /proc. */
  procStat?: (pid: number) => string | null;
  /** `process.kill(pid, 0)`: throws ESRCH when no process has the pid, EPERM when it is not ours. */
  kill: (pid: number, signal: 0) => void;
  /** When this machine last booted, ms since the epoch (`Date.now() - os.uptime() * 1000`). */
  bootedAt: number;
}

/** The part of a lock's holder that tells whether it still runs. */
export interface ProcessIdentity {
  pid: number;
  hostname: string;
  /** Start time from /proc (clock ticks since boot), or null where the platform has none. */
  processStart: string | null;
  /** When the lock was taken (ISO 8601). */
  acquiredAt: string;
}

/** Whether a holder runs: `unknown` is treated as alive, and `why` says what is known. */
export interface Liveness {
  state: 'alive' | 'dead' | 'unknown';
  why: string;
}

/** Boot times a few minutes apart are one boot seen through a clock that was stepped. */
const BOOT_MARGIN_MS = 10 * 60_000;

/** @internal The facts of the platform this process runs on. */
export function currentPlatformFacts(): PlatformFacts {
  const hasProc =
    (process.platform === 'linux' || process.platform === 'android') && existsSync('/proc/self/stat');
  return {
    platform: process.platform,
    hostname: os.hostname(),
    ...(hasProc ? { procStat: readProcStat } : {}),
    kill: (pid, signal) => process.kill(pid, signal),
    bootedAt: Date.now() - os.uptime() * 1000,
  };
}

function readProcStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
}

/** @internal Field 22 of a `/proc/PID/stat` line (the start time), or null. */
export function startTimeOfStat(stat: string | null): string | null {
  if (stat === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces and ')': cut after the last.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

/** @internal The start time of a process of this machine, or null where the platform has none. */
export function processStartOf(pid: number, facts: PlatformFacts = currentPlatformFacts()): string | null {
  return facts.procStat ? startTimeOfStat(facts.procStat(pid)) : null;
}

/** Whether a process has `pid`: kill(pid, 0) succeeds, or fails with EPERM (not ours to signal). */
function probe(pid: number, facts: PlatformFacts): 'free' | 'in use' | Liveness {
  try {
    facts.kill(pid, 0);
    return 'in use';
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return 'free';
    if (isErrno(error, 'EPERM')) return 'in use';
    return { state: 'unknown', why: `kill(${pid}, 0) failed: ${String(error)}` };
  }
}

/**
 * @internal Whether the process that wrote `holder` still runs, from `facts` alone.
 * @example holderLiveness(holder, currentPlatformFacts()).state // 'alive' | 'dead' | 'unknown'
 */
export function holderLiveness(holder: ProcessIdentity, facts: PlatformFacts): Liveness {
  if (holder.hostname !== facts.hostname) {
    return {
      state: 'unknown',
      why: `it runs on another host (${holder.hostname}), where this one cannot look`,
    };
  }
  const dead: Liveness = { state: 'dead', why: `no process has pid ${holder.pid}` };
  const first = probe(holder.pid, facts);
  if (first === 'free') return dead;
  if (first !== 'in use') return first;
  if (facts.procStat) {
    const start = startTimeOfStat(facts.procStat(holder.pid));
    // No stat although kill found the pid: it has just exited, or /proc hides it (hidepid).
    if (start === null && probe(holder.pid, facts) === 'free') return dead;
    if (start !== null && start === holder.processStart) return { state: 'alive', why: 'it runs' };
    if (start !== null && holder.processStart !== null) {
      return {
        state: 'dead',
        why:
          `pid ${holder.pid} now belongs to another process (start time ${start}; ` +
          `the holder's was ${holder.processStart})`,
      };
    }
  }
  const beforeBoot = Date.parse(holder.acquiredAt) < facts.bootedAt - BOOT_MARGIN_MS;
  const noStart = facts.procStat
    ? 'its start time is not known'
    : `${facts.platform} gives no process start time to tell it from a new process that reuses the pid`;
  return {
    state: 'unknown',
    why: beforeBoot
      ? `pid ${holder.pid} is in use, but the lock was taken before this machine last started ` +
        `(${new Date(facts.bootedAt).toISOString()}), so its holder is almost surely gone`
      : `pid ${holder.pid} is in use and ${noStart}`,
  };
}
