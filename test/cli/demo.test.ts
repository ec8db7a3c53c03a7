/**
 * The demo (npm start): three agent sessions replayed with the offline compactor, then the
 * inspector served on them until stopped; --no-serve only prints the summary.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.js';
import { tempRoot } from '../helpers/temp-root.js';

describe('demo', () => {
  it('replays PM, Dev and QA sessions without losing a message, compacting each, then serves the inspector on them', async () => {
    const root = await tempRoot();
    const lines: string[] = [];
    const stop = new AbortController();
    const running = runDemo({
      root,
      maxTokens: 30_000,
      out: (line) => lines.push(line),
      interactive: false,
      stop: stop.signal,
    });
    let url: string | undefined;
    for (let i = 0; i < 600 && url === undefined; i++) {
      url = lines.map((l) => /Inspector: (http:\/\/127\.0\.0\.1:\d+)\//.exec(l)?.[1]).find(Boolean);
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url).toBeDefined();
    const page = await fetch(`${url}/`);
    expect(await page.text()).toContain('inspector.js');
    const list = (await (
      await fetch(`${url}/rpc/session:list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '[]',
      })
    ).json()) as {
      value: { id: string; checkpointVersion: number; stats: { totalCompactions: number } }[];
    };
    expect(list.value.map((s) => s.id).sort()).toEqual([
      'feature--demo--pm',
      'task--demo--replay--in_dev--dev',
      'task--demo--replay--in_qa--qa',
    ]);
    stop.abort();
    const report = await running;
    expect(report.sessions.map((s) => s.agent)).toEqual(['PM', 'Dev', 'QA']);
    for (const s of report.sessions) {
      expect(s.report.historyIntact).toBe(true);
      expect(s.report.requestsOverLimit).toBe(0);
      expect(s.report.compactions.length).toBeGreaterThan(0);
    }
  });

  it('--no-serve only prints the summary', async () => {
    const lines: string[] = [];
    const report = await runDemo({
      root: await tempRoot(),
      serve: false,
      out: (line) => lines.push(line),
      interactive: false,
    });
    expect(report.url).toBeNull();
    expect(lines.join('\n')).not.toContain('Inspector:');
    expect(lines.join('\n')).toContain('every message, identical, in order');
  });
});
