/**
 * inspect: serves a root read-only while a host holds its lock, stops cleanly, and `--url`
 * checks a running host.
 */
import { describe, expect, it } from 'vitest';
import { createInspectCommand } from '../../src/cli/inspect-command.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { FEATURE_ID, TASK_ID, captureIO, run, seededRoot } from './cli-helpers.js';

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = get();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('inspect', () => {
  it('serves the session API read-only until stopped, and --url reports what a host serves', async () => {
    const root = await seededRoot();
    const host = await createSessionRuntime({ root }); // a running host holds the write lock
    const stop = new AbortController();
    const captured = captureIO();
    const serving = createInspectCommand({ stop: stop.signal })(['--root', root, '--json'], captured.io);
    try {
      const line = await until(() => captured.out[0], 'the URL line');
      const info = JSON.parse(line) as { url: string; root: string; readOnly: boolean; serves: string[] };
      expect(info).toMatchObject({ root, readOnly: true });
      expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const list = (await (await fetch(`${info.url}/rpc/session:list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' })).json()) as {
        ok: boolean;
        value: { id: string }[];
      };
      expect(list.ok).toBe(true);
      expect(list.value.map((s) => s.id)).toEqual([FEATURE_ID, TASK_ID]);
      const write = (await (await fetch(`${info.url}/rpc/session:compact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([FEATURE_ID]) })).json()) as {
        ok: boolean;
      };
      expect(write.ok).toBe(false);

      const checked = await run('inspect', '--url', info.url, '--json');
      expect(checked.code, checked.stderr()).toBe(0);
      expect(JSON.parse(checked.stdout())).toMatchObject({ url: info.url, status: 'ok', sessions: 2 });
      const text = await run('inspect', '--url', `${info.url}/`);
      expect(text.stdout()).toContain(`${info.url} is a dagent-sessions host: ok`);
      expect(text.stdout()).toContain('session:previewRequest');
    } finally {
      stop.abort();
      expect(await serving).toBe(0);
      await host.close();
    }
  });

  it('--url exits 1 when nothing answers, 2 when something else answers, and refuses serving flags', async () => {
    const refused = await run('inspect', '--url', 'http://127.0.0.1:9');
    expect(refused.code).toBe(1);
    expect(refused.stderr()).toContain('cannot reach http://127.0.0.1:9/health');
    expect((await run('inspect', '--url', 'ftp://example.org')).code).toBe(1);
    expect((await run('inspect', '--url', 'http://127.0.0.1:9', '--port', '80')).stderr()).toContain('--root and --port apply only to serving');
    expect((await run('inspect', '--token', 'abcdefabcdefabcdef')).stderr()).toContain('--token goes with --url');
    expect((await run('inspect', '--port', '70000')).stderr()).toContain('--port must be from 0 to 65535');

    const { createServer } = await import('node:http');
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const address = other.address() as { port: number };
      const wrong = await run('inspect', '--url', `http://127.0.0.1:${address.port}`);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr()).toContain('not a dagent-sessions health report');
    } finally {
      other.close();
    }
  });
});
