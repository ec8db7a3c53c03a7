/**
 * Importing the root entry does not load the Anthropic SDK (about 250 modules): it is
 * loaded when a compactor or a conversation turn first needs it. Seen from a fresh process with
 * a loader hook (test/support/module-trace.ts); the benchmark (test/bench/import-bench.ts) says
 * what that saves.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { traceImport } from '../support/module-trace.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SDK = `${path.sep}node_modules${path.sep}@anthropic-ai${path.sep}sdk${path.sep}`;

describe('importing dagent-sessions', () => {
  it('does not load @anthropic-ai/sdk, which the same trace sees when it is imported', async () => {
    const trace = await traceImport(path.join(REPO, 'src', 'index.ts'), {
      cwd: REPO,
      tsx: true,
      then: '@anthropic-ai/sdk',
    });
    expect(trace.files).toContain(path.join(REPO, 'src', 'runtime', 'create-session-runtime.ts'));
    expect(
      trace.files.some((file) => file.includes(`${path.sep}node_modules${path.sep}xstate${path.sep}`)),
    ).toBe(true);
    expect(trace.files.filter((file) => file.includes(SDK))).toEqual([]);
    expect(trace.thenFiles.filter((file) => file.includes(SDK)).length).toBeGreaterThan(100);
  });
});
