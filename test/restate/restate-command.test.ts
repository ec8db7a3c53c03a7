/**
 * `dagent-sessions restate dev` and `restate serve`, run as a user runs them (child processes of
 * the real entry point): dev starts a restate-server from node_modules with the endpoint registered
 * and answers through its ingress; serve's endpoint can be registered as it says; Ctrl+C (SIGINT)
 * stops each with exit code 0, and dev removes its temporary data directory.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRestateSessionClient } from '../../src/restate/session-client.js';
import { freeLoopbackPorts } from '../../src/restate/loopback-ports.js';
import { run } from '../cli/cli-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line that `match` accepts. */
  line: (match: RegExp) => Promise<string>;
}

const started: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function cli(...args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, RESTATE_LOGGING: 'ERROR' },
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...waiters]) {
      const found = stdout.split('\n').find((l) => waiter.match.test(l));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    line: (match) =>
      Promise.race([
        new Promise<string>((resolve) => {
          const found = stdout.split('\n').find((l) => match.test(l));
          if (found !== undefined) resolve(found);
          else waiters.push({ match, resolve });
        }),
        exited.then(() => {
          throw new Error(`the command exited before printing ${match}:\n${stdout}\n${stderr}`);
        }),
      ]),
  };
}

async function interrupt(running: Running): Promise<number | null> {
  const exited = once(running.child, 'exit');
  running.child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  return code;
}

interface DevFacts {
  ingressUrl: string;
  adminUrl: string;
  endpointUrl: string;
  dataDir: string;
  dataDirKept: boolean;
  services: string[];
  serverVersion: string;
}

async function add(ingressUrl: string, key: string, amount: number): Promise<unknown> {
  const response = await fetch(`${ingressUrl}/dagentCounter/${key}/add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(amount),
  });
  return response.json();
}

describe('dagent-sessions restate', () => {
  it('dev runs a server with the endpoint registered; serve can join it; Ctrl+C stops both cleanly', async () => {
    const dev = cli('restate', 'dev', '--json');
    const facts = JSON.parse(await dev.line(/^\{/)) as DevFacts;
    expect([...facts.services].sort()).toEqual(
      [
        'compaction',
        'dagentCounter',
        'session',
        'sessionDirectory',
        'sessionEvents',
        'sessionEventsWait',
        'sessionTurn',
      ].sort(),
    );
    expect(facts.ingressUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(facts.dataDirKept).toBe(false);
    expect(existsSync(facts.dataDir)).toBe(true);
    expect(await add(facts.ingressUrl, 'dev', 2)).toBe(2);
    expect(await add(facts.ingressUrl, 'dev', 3)).toBe(5);
    // The session object, through the SessionAPI client, on the server dev started.
    const sessions = await createRestateSessionClient({ ingressUrl: facts.ingressUrl });
    const info = await sessions.create({ type: 'feature', agentType: 'pm', featureId: 'dev' });
    await sessions.addMessage(info.id, { role: 'user', content: 'hello from restate dev' });
    expect((await sessions.getMessages(info.id)).map((m) => m.content)).toEqual(['hello from restate dev']);
    await sessions.close();

    const [port] = (await freeLoopbackPorts(1)) as [number];
    const serve = cli('restate', 'serve', '--port', String(port));
    await serve.line(/^Serving session, sessionDirectory, compaction, .*dagentCounter on/);
    const command = await serve.line(/^ {2}restate deployments register /);
    expect(command.trim()).toBe(`restate deployments register http://127.0.0.1:${port}`);
    // What it prints for the admin API, sent to the dev server's admin API.
    const curl = await serve.line(/^ {2}curl -X POST /);
    const body = /-d '(.*)'$/.exec(curl)?.[1] ?? '';
    const registered = await fetch(`${facts.adminUrl}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(registered.status).toBe(201);
    expect(await add(facts.ingressUrl, 'dev', 1)).toBe(6);

    expect(await interrupt(serve)).toBe(0);
    expect(await interrupt(dev)).toBe(0);
    expect(dev.stderr()).toContain('Stopping...');
    expect(existsSync(facts.dataDir)).toBe(false);
  });

  it('says what is missing or wrong, with exit code 1', async () => {
    const none = await run('restate');
    expect(none.code).toBe(1);
    expect(none.stderr()).toContain('missing dev or serve');
    const unknown = await run('restate', 'deploy');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr()).toContain('unknown subcommand "deploy"');
    const noPort = await run('restate', 'serve');
    expect(noPort.code).toBe(1);
    expect(noPort.stderr()).toContain('missing --port N');
    const badPort = await run('restate', 'dev', '--port', 'x');
    expect(badPort.code).toBe(1);
    expect(badPort.stderr()).toContain('--port must be an integer');
    const help = await run('restate', 'serve', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout()).toContain('Usage: dagent-sessions restate <dev|serve>');
  });
});
