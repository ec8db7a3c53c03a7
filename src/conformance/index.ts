/**
 * `dagent-sessions/conformance`: the suite every {@link SessionStore} must pass, for store authors
 * to run from their own vitest file (vitest is an optional peer of this entry), in the manner of
 * LangGraph's checkpoint validation and unstorage's `testDriver`.
 *
 * The suite works through the contract only: data in, data out. What it checks depends on the
 * store's {@link StoreCapabilities} (a store that is not `persistent` skips the reopen and crash
 * cases; one whose `writers` are `'shared'` is not expected to refuse a second writer). Crash cases
 * stop a commit or an append after each of the store's steps through `hooks.step`, then restart on
 * the same storage.
 *
 * Power-loss cases, for a store that keeps everything in files under one directory: it declares
 * `capabilities.syncs`, calls `hooks.synced(kind, path)` right after every fdatasync of a file
 * (`'file'`, under the name the file has then, a temporary one included) and fsync of a directory
 * (`'directory'`) it makes there, awaits the promise the hook may return before that write goes on,
 * and the target's storage names the `directory` (no store open on it is written to between cases;
 * the suite rewrites it). The suite then cuts a create, appends, commits, the `write*` calls,
 * `recordChecks` and the count records of `recordCounts` after and during each sync, removes what
 * a POSIX power loss may take (data not fdatasynced, directory entries not fsynced since), and
 * checks what a store opened after finds: before or after (a small file: the old value or the new
 * one, whole; a count: exact, or the message reported uncounted), nothing acknowledged lost, a
 * retry that lands once.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import { commitCases } from './cases-commit.js';
import { countCases } from './cases-counts.js';
import { dataCases } from './cases-data.js';
import { powerLossCases } from './cases-power-loss.js';
import { powerLossWriteCases } from './cases-power-loss-writes.js';
import { createHarness, type ConformanceTarget, type Harness } from './harness.js';

export type { ConformanceStorage, ConformanceTarget } from './harness.js';
export type { SessionStore, StoreCapabilities, StoreHooks } from '../store/contract.js';

/**
 * Registers the conformance suite for one store under `describe(name)`.
 *
 * @param name - What the report calls the store.
 * @param target - `setup()` gives fresh, empty storage for each case and `open(options)` opens a
 *   store on it (`readOnly`, `hooks` passed through), and `directory` where every file of it is for
 *   a store with `syncs`; `capabilities` overrides the store's own (`{ syncs: false }` skips the
 *   power-loss cases).
 * @example
 * ```ts
 * // my-store.conformance.test.ts
 * import { testSessionStore } from 'dagent-sessions/conformance'
 * testSessionStore('my store', {
 *   async setup() {
 *     const db = await createTestDatabase()
 *     return { open: (options) => MyStore.open({ db, ...options }), teardown: () => db.drop() }
 *   },
 * })
 * // a store of files that reports its syncs (capabilities.syncs):
 * testSessionStore('my file store', {
 *   async setup() {
 *     const dir = await mkdtemp(path.join(os.tmpdir(), 'store-'))
 *     return { directory: dir, open: (options) => MyFileStore.open({ dir, ...options }) }
 *   },
 * })
 * ```
 */
export function testSessionStore(name: string, target: ConformanceTarget): void {
  describe(`${name} (SessionStore conformance)`, () => {
    let harness: Harness | null = null;
    const h = (): Harness => {
      if (harness === null) throw new Error('conformance: no storage set up for this case');
      return harness;
    };
    beforeEach(async () => {
      harness = await createHarness(target);
    });
    afterEach(async () => {
      await harness?.dispose();
      harness = null;
    });
    dataCases(h);
    countCases(h);
    commitCases(h);
    powerLossCases(h);
    powerLossWriteCases(h);
  });
}
