/**
 * Helpers of the CLI tests: a CliIO that captures what commands print, and a root seeded with
 * sessions through the runtime (closed again, so that commands can open it).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { tempRoot } from '../helpers/temp-root.js';

/** What a command printed. */
export interface Captured {
  io: CliIO;
  out: string[];
  err: string[];
  stdout(): string;
  stderr(): string;
}

/** A CliIO that keeps every line. */
export function captureIO(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (line) => out.push(line), err: (line) => err.push(line), interactive: false },
    out,
    err,
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

/** Runs `main(argv)` with a capturing CliIO. */
export async function run(...argv: string[]): Promise<{ code: number } & Captured> {
  const captured = captureIO();
  const code = await main(argv, captured.io);
  return { code, ...captured };
}

export const FEATURE_ID = 'feature--f1--pm';
export const TASK_ID = 'task--f1--t1--in_dev--dev';

/** A root with a feature session (12 messages, a tool pair) and a task session (2 messages). */
export async function seededRoot(): Promise<string> {
  const root = await tempRoot('dagent-cli-');
  const runtime = await createSessionRuntime({ root });
  try {
    const pm = await runtime.createSession(
      { type: 'feature', agentType: 'pm', featureId: 'f1' },
      { context: { featureName: 'CSV export' } },
    );
    await runtime.addMessage(pm.id, {
      role: 'user',
      content: 'Plan the CSV exporter: quoting, newlines, large files.',
    });
    await runtime.addMessage(pm.id, {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls src' } }],
    });
    await runtime.addMessage(pm.id, {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'export.ts\nindex.ts' }],
    });
    for (let i = 0; i < 9; i++) {
      await runtime.addMessage(pm.id, {
        role: i % 2 === 0 ? 'assistant' : 'user',
        content:
          `Step ${i}: decided to stream rows in batches of ${(i + 1) * 100} and ` +
          `to test quoting of field ${i} with embedded quotes, commas and newlines.`,
      });
    }
    const dev = await runtime.createSession({
      type: 'task',
      agentType: 'dev',
      featureId: 'f1',
      taskId: 't1',
      taskState: 'in_dev',
    });
    await runtime.addMessage(dev.id, { role: 'user', content: 'Implement toCsvRow' });
    await runtime.addMessage(dev.id, {
      role: 'assistant',
      content: 'Done: toCsvRow doubles embedded quotes.',
    });
  } finally {
    await runtime.close();
  }
  return root;
}

/** Writes a transcript in the shared format with `turns` user/assistant/tool rounds of ~`words` words each. */
export async function writeTranscript(dir: string, name: string, turns: number, words = 40): Promise<string> {
  const text = (i: number, what: string) =>
    Array.from({ length: words }, (_, w) => `${what}${i}w${w}`).join(' ');
  const messages: { role: string; content: string; toolName?: string }[] = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `Please continue with part ${i}. ${text(i, 'ask')}` });
    messages.push({ role: 'assistant', content: `Bash(npm test -- part${i})`, toolName: 'Bash' });
    messages.push({ role: 'tool', content: `PASS part${i} ${text(i, 'out')}`, toolName: 'Bash' });
    messages.push({ role: 'assistant', content: `Part ${i} is done. ${text(i, 'note')}` });
  }
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify({ source: `test:${name}`, messages }));
  return file;
}
