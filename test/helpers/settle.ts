import type { SessionRuntime } from '../../src/runtime/create-session-runtime.js';

/** Waits until no compaction runs in the session (one triggered by the last append may still run). */
export async function settle(runtime: SessionRuntime, id: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    const info = await runtime.getSession(id);
    if (info.state === 'idle' || info.state === 'failed') return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`session ${id} did not settle`);
}
