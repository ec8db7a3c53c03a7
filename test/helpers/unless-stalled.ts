/**
 * Resolves with `settled`'s value, or with 'stalled' once `held()` and no file-system request has
 * been in flight for two turns of the event loop (a wait on state, as the conformance suite's).
 */
export async function unlessStalled<T>(settled: Promise<T>, held: () => boolean): Promise<T | 'stalled'> {
  let outcome: { value: T } | null = null;
  void settled.then((value) => (outcome = { value }));
  for (let quiet = 0; quiet < 2;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (outcome !== null) return (outcome as { value: T }).value;
    const busy = process.getActiveResourcesInfo().some((name) => /^FSReq|CloseReq$/.test(name));
    quiet = held() && !busy ? quiet + 1 : 0;
  }
  return 'stalled';
}
