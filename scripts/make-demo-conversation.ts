/**
 * Writes the demo's Dev conversation (src/cli/demo-dev-conversation.ts) to a file, for a look at
 * it or for `demo --transcript FILE`. The demo itself makes it from the package's files when it
 * runs; nothing needs to be generated beforehand.
 *
 * Run with `npx tsx scripts/make-demo-conversation.ts [FILE]` (default: demo-conversation.json).
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { demoDevConversation } from '../src/cli/demo-dev-conversation.js';

/** @internal Writes the conversation and prints its size. */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = resolve(process.argv[2] ?? 'demo-conversation.json');
  const demo = await demoDevConversation(root);
  const json = `${JSON.stringify(demo, null, 1)}\n`;
  await writeFile(out, json);
  console.log(
    `wrote ${out}: ${demo.messages.length} messages, ~${String(demo.meta.approx_tokens)} tokens, ` +
      `${(Buffer.byteLength(json) / 1024).toFixed(0)} KB from ${(demo.meta.files as string[]).length} files`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
