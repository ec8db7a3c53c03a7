/**
 * `npm run bench`: runs the exported `run()` of every `test/bench/*-bench.ts` module in turn and
 * prints what each returns as markdown tables. Benchmarks are never timed assertions: they
 * report, a person judges.
 *
 * A bench module exports `run()`, resolving to tables ({@link BenchTable}) or to markdown ready
 * to print.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One table of results. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Lines printed under the table: what was measured, and how. */
  notes?: string[];
}

/** What a `*-bench.ts` module exports. */
export interface BenchModule {
  run(): Promise<BenchTable | BenchTable[] | string>;
}

/** Renders a table as GitHub markdown, numbers right-aligned. */
export function toMarkdown(table: BenchTable): string {
  const cells = table.rows.map((row) => row.map(String));
  const numeric = table.columns.map((_, c) => table.rows.every((row) => typeof row[c] === 'number'));
  const widths = table.columns.map((column, c) =>
    Math.max(column.length, 3, ...cells.map((row) => (row[c] ?? '').length)),
  );
  const pad = (text: string, c: number) => (numeric[c] ? text.padStart(widths[c]!) : text.padEnd(widths[c]!));
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (numeric[c] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  const notes = (table.notes ?? []).map((note) => `\n${note}`).join('');
  return [`### ${table.title}`, '', line(table.columns), rule, ...cells.map(line), notes].join('\n');
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const only = process.argv[2];
  const modules = (await readdir(here))
    .filter((name) => name.endsWith('-bench.ts') && (only === undefined || name.includes(only)))
    .sort();
  console.log(
    `# dagent-sessions benchmarks\n\n` +
      `Node ${process.version}, ${os.platform()} ${os.arch()}, ` +
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, temp dir ${os.tmpdir()}\n`,
  );
  for (const name of modules) {
    const started = performance.now();
    const module = (await import(pathToFileURL(path.join(here, name)).href)) as Partial<BenchModule>;
    if (typeof module.run !== 'function') {
      console.log(`${name}: exports no run(), skipped\n`);
      continue;
    }
    const result = await module.run();
    if (typeof result === 'string') console.log(`${result.trimEnd()}\n`);
    else for (const table of Array.isArray(result) ? result : [result]) console.log(`${toMarkdown(table)}\n`);
    console.log(`_${name}: ${((performance.now() - started) / 1000).toFixed(1)} s_\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
