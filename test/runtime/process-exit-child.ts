/**
 * The script of test/runtime/process-exit.test.ts, as a user would write one: it opens a runtime
 * on ROOT (with the default clock), appends MESSAGES messages to a session, starts a compaction
 * without waiting for it, and then simply ends, never calling close(). With MODE=dispose it
 * appends inside a block with `await using`, and prints whether the lock file was still there
 * after the block.
 *
 * The session is `feature--exit--dev`. It prints `appended <n>` once the appends have resolved, `compaction.started` /
 * `compaction.completed` as the runtime reports them, and `compacted <version>` when the
 * compaction it started has resolved.
 *
 * Run: `node --import tsx test/runtime/process-exit-child.ts` with ROOT, MESSAGES and MODE in the
 * environment.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';

const root = process.env.ROOT ?? '';
const count = Number(process.env.MESSAGES ?? '60');

async function appendAll(runtime: SessionRuntime): Promise<string> {
  runtime.subscribe((event) => {
    if (event.type === 'session.compaction.started') console.log('compaction.started');
    if (event.type === 'session.compaction.completed') console.log('compaction.completed');
  });
  const session = await runtime.createSession({ type: 'feature', agentType: 'dev', featureId: 'exit' });
  for (let i = 0; i < count; i++) {
    await runtime.addMessage(session.id, {
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `Message ${i}: decided to keep the exporter streaming, batch ${i}, with quoting checked twice.`,
    });
  }
  console.log(`appended ${count}`);
  return session.id;
}

const options = { root, limits: { maxTokens: 4_000, replyReserveTokens: 500, keepRecentTokens: 300 } };
if (process.env.MODE === 'dispose') {
  {
    await using runtime = await createSessionRuntime(options);
    await appendAll(runtime);
  }
  console.log(`lock after the block: ${existsSync(path.join(root, '.dagent', 'lock')) ? 'present' : 'gone'}`);
} else {
  const runtime = await createSessionRuntime(options);
  const id = await appendAll(runtime);
  // In flight when the script ends: it must still commit before the process exits.
  void runtime
    .compact(id, { keepRecentTokens: 300 })
    .then((result) => console.log(`compacted ${result.checkpointVersion}`));
  // No close(): the process must end by itself.
}
