/**
 * A root with the sessions of a small project, for the inspector's browser tests and its
 * screenshot: PM feature sessions, Dev and QA task sessions with tool calls and their results,
 * the Dev one compacted once already.
 */
import { OfflineCompactor } from '../../src/compaction/offline-compactor.js';
import type { MessageInput, SessionKey } from '../../src/core/types.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionRuntime } from '../../src/runtime/types.js';

export const PM: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'checkout' };
export const DEV: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'checkout',
  taskId: 't1',
  taskState: 'in_dev',
};
export const QA: SessionKey = {
  type: 'task',
  agentType: 'qa',
  featureId: 'checkout',
  taskId: 't1',
  taskState: 'in_qa',
};
export const SEARCH_PM: SessionKey = { type: 'feature', agentType: 'pm', featureId: 'search' };
export const SEARCH_DEV: SessionKey = {
  type: 'task',
  agentType: 'dev',
  featureId: 'search',
  taskId: 't7',
  taskState: 'in_dev',
};
export const HARNESS: SessionKey = {
  type: 'task',
  agentType: 'harness',
  featureId: 'search',
  taskId: 't7',
  taskState: 'in_review',
};

let toolId = 0;

/** A tool call and its result: an assistant message with `tool_use`, a user message with `tool_result`. */
export function toolPair(
  name: string,
  input: Record<string, unknown>,
  result: string,
  isError = false,
  text?: string,
): MessageInput[] {
  const id = `toolu_${String(++toolId).padStart(4, '0')}`;
  return [
    {
      role: 'assistant',
      content: [...(text ? [{ type: 'text' as const, text }] : []), { type: 'tool_use', id, name, input }],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: id, content: result, ...(isError ? { is_error: true } : {}) },
      ],
    },
  ];
}

/** One working round of a Dev agent on `file`: read, edit, test (failing first), fix, test. */
export function devRound(file: string, topic: string): MessageInput[] {
  const test = file.replace(/\.ts$/, '.test.ts');
  return [
    { role: 'user', content: `Next: ${topic}. Keep the public API of src/report unchanged.` },
    ...toolPair(
      'Read',
      { file_path: file },
      (
        `// ${file}\nexport function ${topic.split(' ')[0]}(rows: ` +
        `Row[]): string {\n  return rows.map(String).join('\\n');\n}\n`
      ).repeat(3),
      false,
      `I'll start by reading ${file}.`,
    ),
    ...toolPair(
      'Edit',
      { file_path: file, old_string: 'rows.map(String)', new_string: 'rows.map(toCsvLine)' },
      `The file ${file} has been updated.`,
    ),
    ...toolPair(
      'Bash',
      { command: `npx vitest run ${test}` },
      `FAIL ${test} > quotes fields with commas\nExpected: "a,b"\nReceived: a,b`,
      true,
    ),
    ...toolPair(
      'Edit',
      { file_path: file, old_string: 'toCsvLine', new_string: 'quoteCsv(toCsvLine)' },
      `The file ${file} has been updated.`,
      false,
      'The test fails with unquoted commas; quoting every field that holds a comma.',
    ),
    ...toolPair(
      'Bash',
      { command: `npx vitest run ${test}` },
      `✓ ${test} (6 tests) 41ms\nTest Files  1 passed (1)`,
    ),
    {
      role: 'assistant',
      content: `Fixed the quoting in ${file}; tests pass now. We still need to document ${topic} in the README.`,
    },
  ];
}

/** One round of a QA agent checking `what`. */
export function qaRound(what: string, passed: boolean): MessageInput[] {
  return [
    { role: 'user', content: `Verify ${what} against the acceptance criteria.` },
    ...toolPair(
      'Bash',
      { command: 'npx playwright test checkout' },
      passed
        ? '12 passed (8.1s)'
        : '1 failed\n  checkout.spec.ts:41 export button is disabled for empty carts',
      !passed,
    ),
    {
      role: 'assistant',
      content: passed
        ? `${what}: every criterion is met.`
        : `${what} is blocked by the disabled export button for empty carts.`,
    },
  ];
}

async function add(runtime: SessionRuntime, id: string, messages: MessageInput[]): Promise<void> {
  for (const message of messages) await runtime.addMessage(id, message);
}

/** The ids of the seeded sessions. */
export interface SeededIds {
  pm: string;
  dev: string;
  qa: string;
  searchPm: string;
  searchDev: string;
  harness: string;
}

/**
 * A runtime on `root` (offline compactor; a 12,000-token limit, 2,800 for Dev agents) holding the
 * seeded sessions: the checkout Dev one compacted once, then given more rounds (past 80% of its
 * limit); nothing archived.
 */
export async function seedInspectorRoot(root: string): Promise<{ runtime: SessionRuntime; ids: SeededIds }> {
  const runtime = await createSessionRuntime({
    root,
    compactor: new OfflineCompactor(),
    limits: {
      maxTokens: 12_000,
      compactAt: 0.9,
      keepRecentTokens: 1_500,
      replyReserveTokens: 1_000,
      checkpointTokens: 1_200,
    },
    // Small enough that the seeded Dev session stands past 80% of it (the gauge warns), under 90%.
    agents: { dev: { limits: { maxTokens: 2_800, keepRecentTokens: 400, checkpointTokens: 400 } } },
  });
  const create = async (key: SessionKey, context: Record<string, unknown>) =>
    (await runtime.createSession(key, { context })).id;
  const ids: SeededIds = {
    pm: await create(PM, { featureName: 'Checkout', featureGoal: 'Export the checkout report as CSV' }),
    dev: await create(DEV, {
      featureName: 'Checkout',
      taskTitle: 'Write the CSV exporter',
      taskState: 'in_dev',
      dependencies: ['auth'],
    }),
    qa: await create(QA, {
      featureName: 'Checkout',
      taskTitle: 'Write the CSV exporter',
      taskState: 'in_qa',
    }),
    searchPm: await create(SEARCH_PM, { featureName: 'Search', featureGoal: 'Full-text search of orders' }),
    searchDev: await create(SEARCH_DEV, {
      featureName: 'Search',
      taskTitle: 'Index orders',
      taskState: 'in_dev',
    }),
    harness: await create(HARNESS, {
      featureName: 'Search',
      taskTitle: 'Index orders',
      taskState: 'in_review',
    }),
  };
  await add(runtime, ids.pm, [
    { role: 'user', content: 'Plan the checkout CSV export. Finance needs it by the end of the sprint.' },
    {
      role: 'assistant',
      content:
        'Decided to split it into two tasks: t1 writes the exporter, ' +
        't2 adds the download button. We will use papaparse instead of a hand-written writer.',
    },
    { role: 'user', content: 'Good. Keep the report columns as they are today.' },
    {
      role: 'assistant',
      content: 'Created t1 (exporter, Dev then QA) and t2 (button). Next steps: t2 needs a design review.',
    },
  ]);
  await add(runtime, ids.dev, [
    ...devRound('src/report/csv.ts', 'quoting of fields'),
    ...devRound('src/report/header.ts', 'header row option'),
  ]);
  await runtime.compact(ids.dev, { keepRecentTokens: 300 });
  await add(runtime, ids.dev, [
    ...devRound('src/report/totals.ts', 'totals row'),
    ...devRound('src/report/dates.ts', 'ISO dates'),
  ]);
  await add(runtime, ids.qa, [...qaRound('the CSV exporter', true), ...qaRound('the export button', false)]);
  await add(runtime, ids.searchPm, [
    { role: 'user', content: 'Plan full-text search of orders.' },
    { role: 'assistant', content: 'Going with SQLite FTS5 instead of an external search service.' },
  ]);
  await add(runtime, ids.searchDev, devRound('src/search/index.ts', 'order indexing'));
  await add(runtime, ids.harness, qaRound('order indexing', true));
  // What the host keeps for itself, never sent to the model; and a decision in the ledger.
  await add(runtime, ids.pm, [
    { role: 'system', content: 'DAGent: feature state synced (2 tasks)', metadata: { internal: true } },
  ]);
  await runtime.recordDecision(ids.pm, {
    kind: 'merge',
    subject: 't1',
    resolution: 'kept both column orders behind the legacyColumns flag',
    files: ['src/report/csv.ts'],
    reasons: ['finance still imports the old layout'],
    by: 'merge',
  });
  return { runtime, ids };
}

/**
 * Appends `rounds` Dev rounds (12 messages each, tool calls and results, failing and passing
 * tests) to session `id`, compacting after every `compactEvery` rounds (keeping a tail of 300
 * tokens). Appends go in batches of 48 so that the session's group commit writes each batch at once.
 */
export async function seedLargeSession(
  runtime: SessionRuntime,
  id: string,
  rounds: number,
  compactEvery: number,
): Promise<void> {
  let batch: MessageInput[] = [];
  const flush = async () => {
    const messages = batch;
    batch = [];
    // Sent together, in order: the actor numbers them as they arrive and writes them as one.
    await Promise.all(messages.map((m) => runtime.addMessage(id, m)));
  };
  for (let round = 1; round <= rounds; round++) {
    batch.push(...devRound(`src/module${round % 37}/file${round}.ts`, `feature ${round} of the exporter`));
    if (batch.length >= 48) await flush();
    if (round % compactEvery === 0) {
      await flush();
      await runtime.compact(id, { keepRecentTokens: 300 });
    }
  }
  await flush();
}
