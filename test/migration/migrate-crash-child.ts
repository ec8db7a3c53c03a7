/**
 * The migration that test/migration/rollback-crash.test.ts kills. It opens a runtime on `ROOT`,
 * runs `migrateAll(ROOT, { runtime })` and, through the runtime's events, announces with write(2)
 * on the stdout pipe each message once it is durable: `appended <sessionId> <seq>`. The parent
 * SIGKILLs it at the announcement it waits for, so the migration stops half-way through a file,
 * with its manifest still `running`.
 *
 * Run: `node --import tsx test/migration/migrate-crash-child.ts` with ROOT in the environment.
 */
import { writeSync } from 'node:fs';
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import { migrateAll } from '../../src/migration/migrate.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';

const root = process.env.ROOT;
if (!root) throw new Error('ROOT is required');
const runtime = await createSessionRuntime({ root, compactor: new OfflineCompactor() });
runtime.subscribe((event) => {
  if (event.type === 'session.message.appended')
    writeSync(1, `appended ${event.sessionId} ${event.message.seq}\n`);
});
writeSync(1, 'ready\n');
await migrateAll(root, { runtime });
writeSync(1, 'finished\n');
await runtime.close();
