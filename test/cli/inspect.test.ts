/**
 * inspect: serves the page and the session API; as the writer it advertises itself, so that a
 * `compact` run elsewhere goes through it (and reaches its event stream); read-only while a host
 * holds the root without a server; attaches with --url; --check checks a running host.
 */
import { describe, expect, it } from 'vitest';
import { compactCommand } from '../../src/cli/compact-command.js';
import { createInspectCommand } from '../../src/cli/inspect-command.js';
import { createSessionClient } from '../../src/ipc/client.js';
import { readHost } from '../../src/ipc/host-file.js';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import type { SessionEvent } from '../../src/runtime/events.js';
import { FEATURE_ID, TASK_ID, captureIO, run, seededRoot } from './cli-helpers.js';

async function until<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = get();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

type ServeInfo = { url: string; root: string | null; mode: string; page: string };

async function startInspect(args: string[]) {
  const stop = new AbortController();
  const captured = captureIO();
  const serving = createInspectCommand({ stop: stop.signal })([...args, '--json'], captured.io);
  const line = await until(
    () =>
      captured.out[0] ??
      (captured.err.length > 0 && captured.err.join('').includes('Error') ? 'error' : undefined),
    'the URL line',
  );
  const info = JSON.parse(line) as ServeInfo;
  return {
    info,
    stop: async () => {
      stop.abort();
      return serving;
    },
    captured,
  };
}

const post = async (url: string, channel: string, args: unknown[]) =>
  (await (
    await fetch(`${url}/rpc/${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args),
    })
  ).json()) as { ok: boolean; value?: unknown; error?: { code: string } };

describe('inspect', () => {
  it(
    'as the writer: serves the page and the API, advertises itself, ' +
      'and a CLI compact goes through it to its event stream',
    async () => {
      const root = await seededRoot();
      const inspect = await startInspect(['--root', root]);
      try {
        expect(inspect.info).toMatchObject({ root, mode: 'writer' });
        const page = await fetch(inspect.info.page);
        expect(page.headers.get('content-type')).toContain('text/html');
        expect(await page.text()).toContain('inspector.js');
        expect((await readHost(root))?.url).toBe(inspect.info.url);
        const events: SessionEvent[] = [];
        const client = createSessionClient(inspect.info.url);
        client.onEvent((e) => events.push(e));
        await client.eventsConnected();
        const captured = captureIO();
        const code = await compactCommand(
          [FEATURE_ID, '--root', root, '--keep-recent-tokens', '0'],
          captured.io,
        );
        expect(code, captured.err.join('\n')).toBe(0);
        expect(captured.err.join('\n')).toContain(
          `through the host that holds the root, at ${inspect.info.url}`,
        );
        await until(
          () => events.find((e) => e.type === 'session.compaction.completed' && e.sessionId === FEATURE_ID),
          'the compaction event',
        );
        client.close();
      } finally {
        expect(await inspect.stop()).toBe(0);
      }
      expect(await readHost(root)).toBeNull(); // withdrawn on close
    },
  );

  it('read-only while a host holds the root without advertising a server; attaches to one that does', async () => {
    const root = await seededRoot();
    const host = await createSessionRuntime({ root }); // holds the write lock, serves nothing
    const readOnly = await startInspect(['--root', root]);
    try {
      expect(readOnly.info.mode).toBe('read-only');
      expect(readOnly.captured.err.join('\n')).toContain('Serving read-only');
      const list = await post(readOnly.info.url, 'session:list', []);
      expect((list.value as { id: string }[]).map((s) => s.id)).toEqual([FEATURE_ID, TASK_ID]);
      expect((await post(readOnly.info.url, 'session:compact', [FEATURE_ID])).ok).toBe(false);
    } finally {
      expect(await readOnly.stop()).toBe(0);
      await host.close();
    }
    const writer = await startInspect(['--root', root]);
    const attached = await startInspect(['--root', root]);
    try {
      expect(attached.info.mode).toBe(`attached to ${writer.info.url}`);
      expect(
        (await post(attached.info.url, 'session:compact', [FEATURE_ID, { keepRecentTokens: 0 }])).ok,
      ).toBe(true); // through the writer
    } finally {
      expect(await attached.stop()).toBe(0);
      expect(await writer.stop()).toBe(0);
    }
  });

  it('--url attaches to a host and serves the page; --check reports what a host serves', async () => {
    const root = await seededRoot();
    const writer = await startInspect(['--root', root]);
    try {
      const attached = await startInspect(['--url', writer.info.url]);
      try {
        expect(attached.info.mode).toBe(`attached to ${writer.info.url}`);
        expect((await fetch(attached.info.page)).status).toBe(200);
        expect((await post(attached.info.url, 'session:list', [])).ok).toBe(true);
      } finally {
        expect(await attached.stop()).toBe(0);
      }
      const checked = await run('inspect', '--url', writer.info.url, '--check', '--json');
      expect(checked.code, checked.stderr()).toBe(0);
      expect(JSON.parse(checked.stdout())).toMatchObject({ url: writer.info.url, status: 'ok', sessions: 2 });
      const text = await run('inspect', '--url', `${writer.info.url}/`, '--check');
      expect(text.stdout()).toContain(`${writer.info.url} is a dagent-sessions host: ok`);
    } finally {
      expect(await writer.stop()).toBe(0);
    }
  });

  it('--url exits 1 when nothing answers, 2 when something else answers, and refuses mixed flags', async () => {
    const refused = await run('inspect', '--url', 'http://127.0.0.1:9', '--check');
    expect(refused.code).toBe(1);
    expect(refused.stderr()).toContain('cannot reach http://127.0.0.1:9/health');
    expect((await run('inspect', '--url', 'http://127.0.0.1:9')).code).toBe(1); // attaching checks first
    expect((await run('inspect', '--url', 'ftp://example.org')).code).toBe(1);
    expect((await run('inspect', '--url', 'http://127.0.0.1:9', '--root', '/tmp')).stderr()).toContain(
      '--root applies only to serving a root',
    );
    expect((await run('inspect', '--token', 'abcdefabcdefabcdef')).stderr()).toContain(
      '--token and --check go with --url',
    );
    expect((await run('inspect', '--port', '70000')).stderr()).toContain('--port must be from 0 to 65535');

    const { createServer } = await import('node:http');
    const other = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    );
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const address = other.address() as { port: number };
      const wrong = await run('inspect', '--url', `http://127.0.0.1:${address.port}`, '--check');
      expect(wrong.code).toBe(2);
      expect(wrong.stderr()).toContain('not a dagent-sessions health report');
    } finally {
      other.close();
    }
  });
});

describe('inspect --stately', () => {
  it('attaches @statelyai/inspect and still serves and stops cleanly', async () => {
    const root = await seededRoot();
    const inspect = await startInspect(['--root', root, '--stately']);
    try {
      expect(inspect.info.mode).toBe('writer');
      expect(inspect.captured.err.join('\n')).toContain('Stately inspector');
      // actors run with the inspector attached
      expect((await post(inspect.info.url, 'session:getMessages', [FEATURE_ID])).ok).toBe(true);
    } finally {
      expect(await inspect.stop()).toBe(0);
    }
  });
});
