/**
 * The commands that serve until Ctrl+C wait through one rule (src/cli/until-stopped.ts): the first
 * signal ends the wait, and a later one, even after `dispose`, is taken by `onRepeat` rather than
 * left to Node, which would end the process in the middle of the stopping (the demo's temporary
 * root was left behind so). Signals are emitted in process: `process.emit` calls the listeners
 * (with the signal's name) as a delivered signal would, and with none it does nothing, so the test
 * process itself is safe.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { untilStopped } from '../../src/cli/until-stopped.js';

const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
const added = (name: 'SIGINT' | 'SIGTERM') =>
  process.listeners(name).filter((l) => !before[name].includes(l));
afterEach(() => {
  for (const name of ['SIGINT', 'SIGTERM'] as const) for (const l of added(name)) process.off(name, l);
});

describe('untilStopped', () => {
  it('ends the wait at the first signal and hands each later one to onRepeat, after dispose too', async () => {
    const onRepeat = vi.fn();
    const stop = untilStopped({ onRepeat });
    expect(added('SIGINT')).toHaveLength(1);
    expect(added('SIGTERM')).toHaveLength(1);
    process.emit('SIGINT', 'SIGINT');
    expect(await stop.done).toBe('SIGINT');
    expect(onRepeat).not.toHaveBeenCalled();
    process.emit('SIGINT', 'SIGINT');
    expect(onRepeat).toHaveBeenCalledTimes(1);
    stop.dispose(); // the stopping goes on: a Ctrl+C now must not end the process
    expect(added('SIGINT')).toHaveLength(1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(onRepeat).toHaveBeenCalledTimes(2);
  });

  it('ends the wait at an abort, and dispose then removes its listeners', async () => {
    const abort = new AbortController();
    const stop = untilStopped({ signal: abort.signal });
    abort.abort();
    expect(await stop.done).toBe('abort');
    stop.dispose();
    expect(added('SIGINT')).toHaveLength(0);
    expect(added('SIGTERM')).toHaveLength(0);
  });

  it('says by default, on a second signal, what it waits for', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const stop = untilStopped();
      process.emit('SIGTERM', 'SIGTERM');
      expect(await stop.done).toBe('SIGTERM');
      process.emit('SIGINT', 'SIGINT');
      expect(String(write.mock.calls[0]?.[0])).toContain('still stopping');
    } finally {
      write.mockRestore();
    }
  });
});
