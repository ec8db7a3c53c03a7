/**
 * The migration that test/migration/rollback-crash.test.ts kills. It opens a runtime on `ROOT`,
 * runs `migrateAll(ROOT, { runtime })` and, through the runtime's events, announces with write(2)
 * on the stdout pipe each message once it is durable: `appended <sessionId> <seq>`. At the one
 * named by `KILL_AT` (`<sessionId> <seq>`) it stops dead, the whole process blocked inside the
 * event listener, until the parent SIGKILLs it: the migration stops half-way through a file, with
 * its manifest still `running`, however slow the machine is.
 *
 * Run: `node --import tsx test/migration/migrate-crash-child.ts` with ROOT and KILL_AT set.
 */
import { writeSync } from 'node:fs';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { migrateAll } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';

const root = process.env.ROOT;
if (!root) throw new Error('ROOT is required');
const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor() });
const killAt = process.env.KILL_AT;
runtime.subscribe((event) => {
  if (event.type !== 'session.message.appended') return;
  const point = `${event.sessionId} ${event.message.seq}`;
  writeSync(1, `appended ${point}\n`);
  // Nothing more happens in this process: the parent kills it here.
  if (point === killAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
writeSync(1, 'ready\n');
await migrateAll(root, { runtime });
writeSync(1, 'finished\n');
await runtime.close();
