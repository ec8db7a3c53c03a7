/**
 * Whether a lock's holder still runs, per platform: the facts of Linux (with /proc), macOS and
 * Windows (without) are injected, so that each platform's answer is checked on any of them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  currentPlatformFacts,
  holderLiveness,
  processStartOf,
  startTimeOfStat,
  type PlatformFacts,
  type ProcessIdentity,
} from '../../src/store/process-liveness.js';

const BOOT = Date.parse('2026-03-01T08:00:00.000Z');

function errno(code: string): Error {
  return Object.assign(new Error(`kill: ${code}`), { code });
}

/** A stat line of a process started at `start` ticks, with a command name that holds ") (". */
function statLine(pid: number, start: string): string {
  const after = [
    'S',
    '1',
    pid,
    pid,
    '0',
    '-1',
    '4194560',
    '0',
    '0',
    '0',
    '0',
    '7',
    '3',
    '0',
    '0',
    '20',
    '0',
    '1',
  ];
  return `${pid} (node) (x) ${[...after, '0', start, '1000'].join(' ')}`;
}

/** Facts of a machine where `pids` run (pid to start time); `denied` pids belong to another user. */
function facts(
  platform: NodeJS.Platform,
  pids: Record<number, string>,
  options: { denied?: number[]; proc?: boolean; killError?: string } = {},
): PlatformFacts {
  const proc = options.proc ?? platform === 'linux';
  return {
    platform,
    hostname: 'here',
    bootedAt: BOOT,
    kill: (pid) => {
      if (options.killError) throw errno(options.killError);
      if (!(pid in pids)) throw errno('ESRCH');
      if (options.denied?.includes(pid)) throw errno('EPERM');
    },
    ...(proc ? { procStat: (pid: number) => (pid in pids ? statLine(pid, pids[pid]!) : null) } : {}),
  };
}

function holder(
  pid: number,
  processStart: string | null,
  more: Partial<ProcessIdentity> = {},
): ProcessIdentity {
  return { pid, hostname: 'here', processStart, acquiredAt: '2026-03-01T09:00:00.000Z', ...more };
}

describe('startTimeOfStat', () => {
  it('reads field 22 after the last parenthesis, whatever the command name holds', () => {
    expect(startTimeOfStat(statLine(42, '123456'))).toBe('123456');
    expect(startTimeOfStat(null)).toBeNull();
  });
});

describe('holderLiveness on Linux (/proc)', () => {
  it('a free pid is dead', () => {
    expect(holderLiveness(holder(7, '100'), facts('linux', {}))).toMatchObject({ state: 'dead' });
  });

  it('the same pid and start time is alive, also for another user (EPERM)', () => {
    expect(holderLiveness(holder(7, '100'), facts('linux', { 7: '100' })).state).toBe('alive');
    expect(holderLiveness(holder(7, '100'), facts('linux', { 7: '100' }, { denied: [7] })).state).toBe(
      'alive',
    );
  });

  it('a pid reused by a process with another start time is dead', () => {
    const answer = holderLiveness(holder(7, '100'), facts('linux', { 7: '555' }));
    expect(answer.state).toBe('dead');
    expect(answer.why).toContain('start time 555');
  });

  it('a pid that exits between kill and /proc is dead', () => {
    let calls = 0;
    const racing: PlatformFacts = {
      ...facts('linux', {}),
      kill: () => {
        if (++calls > 1) throw errno('ESRCH');
      },
    };
    expect(holderLiveness(holder(7, '100'), racing).state).toBe('dead');
  });

  it('a pid in use whose start time cannot be compared is unknown (treated as alive)', () => {
    expect(holderLiveness(holder(7, null), facts('linux', { 7: '100' })).state).toBe('unknown');
    // /proc hides other users' processes (hidepid): kill says in use, stat says nothing.
    const hidden: PlatformFacts = { ...facts('linux', { 7: '100' }), procStat: () => null };
    expect(holderLiveness(holder(7, '100'), hidden).state).toBe('unknown');
  });
});

describe('holderLiveness without /proc', () => {
  for (const platform of ['darwin', 'win32', 'freebsd'] as const) {
    it(`${platform}: a free pid is dead; a pid in use is unknown, and the answer says why`, () => {
      expect(holderLiveness(holder(7, null), facts(platform, {})).state).toBe('dead');
      const inUse = holderLiveness(holder(7, null), facts(platform, { 7: 'x' }));
      expect(inUse.state).toBe('unknown');
      expect(inUse.why).toContain(`${platform} gives no process start time`);
      // EPERM (Windows: another user's or an elevated process) also means in use.
      expect(holderLiveness(holder(7, null), facts(platform, { 7: 'x' }, { denied: [7] })).state).toBe(
        'unknown',
      );
    });
  }

  it('a start time recorded on Linux does not make a pid in use dead where it cannot be compared', () => {
    expect(holderLiveness(holder(7, '100'), facts('darwin', { 7: 'x' })).state).toBe('unknown');
  });

  it('says when the lock was taken before the last boot, so that the holder is almost surely gone', () => {
    const old = holder(7, null, { acquiredAt: '2026-02-27T10:00:00.000Z' });
    const answer = holderLiveness(old, facts('win32', { 7: 'x' }));
    expect(answer.state).toBe('unknown');
    expect(answer.why).toContain('before this machine last started (2026-03-01T08:00:00.000Z)');
    // A few minutes before the boot time is a stepped clock, not a reboot.
    const recent = holder(7, null, { acquiredAt: '2026-03-01T07:55:00.000Z' });
    expect(holderLiveness(recent, facts('win32', { 7: 'x' })).why).not.toContain('before this machine');
  });
});

describe('holderLiveness anywhere', () => {
  it('a holder on another host is unknown', () => {
    const answer = holderLiveness(holder(7, '100', { hostname: 'there' }), facts('linux', {}));
    expect(answer).toMatchObject({ state: 'unknown' });
    expect(answer.why).toContain('another host (there)');
  });

  it('a kill that fails otherwise is unknown', () => {
    const answer = holderLiveness(holder(7, '100'), facts('linux', { 7: '100' }, { killError: 'EINVAL' }));
    expect(answer.state).toBe('unknown');
    expect(answer.why).toContain('EINVAL');
  });
});

describe('the facts of this machine', () => {
  it('read this process start time from /proc where there is one, and nothing elsewhere', () => {
    const here = currentPlatformFacts();
    expect(here.platform).toBe(process.platform);
    if (here.procStat) {
      const fromProc = startTimeOfStat(readFileSync('/proc/self/stat', 'utf8'));
      expect(processStartOf(process.pid, here)).toBe(fromProc);
      expect(holderLiveness(holder(process.pid, fromProc, { hostname: here.hostname }), here).state).toBe(
        'alive',
      );
    } else {
      expect(processStartOf(process.pid, here)).toBeNull();
    }
    expect(here.bootedAt).toBeLessThan(Date.now());
  });
});
