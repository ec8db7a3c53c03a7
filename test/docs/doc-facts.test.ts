/**
 * Lists in the docs held to the code they list: README's set-up commands, its CLI table against
 * each command's own `--help`, and docs/embedding.md's channels against `SESSION_CHANNELS`.
 * README's table once left out `--offline` of `replay` and `import`.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { SESSION_CHANNELS } from '../../src/ipc/index.js';

async function doc(name: string): Promise<string> {
  return readFile(new URL(`../../${name}`, import.meta.url), 'utf8');
}

/** The text of section `heading` (up to the next heading of its level or higher). */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const level = heading.split(' ')[0] ?? '##';
  const next = text.slice(start + heading.length + 2).search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return next < 0 ? text.slice(start) : text.slice(start, start + heading.length + 2 + next);
}

async function helpOf(command: string): Promise<string> {
  const entry = COMMANDS[command];
  if (entry === undefined) throw new Error(`no command ${command}`);
  const lines: string[] = [];
  const run = await entry.load();
  await run(['--help'], {
    out: (line) => lines.push(line),
    err: (line) => lines.push(line),
    interactive: false,
  });
  return lines.join('\n');
}

const flagsOf = (text: string): Set<string> => new Set(text.match(/--[a-z][a-z-]*/g) ?? []);

/** The flags a command's --help lists as its options (one per line, not those its prose names). */
const optionsOf = (help: string): Set<string> =>
  new Set([...help.matchAll(/^\s+(?:-[a-z], )?(--[a-z][a-z-]*)/gm)].map((m) => m[1] ?? ''));

describe('README', () => {
  it('shows the two set-up commands, and only those, under "Set up"', async () => {
    const setUp = section(await doc('README.md'), '## Set up');
    const commands = [...setUp.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => (m[1] ?? '').trim());
    expect(commands).toEqual(['npm install && npm start', 'npm install && npm test']);
  });

  it('lists every CLI command, each with flags of its own --help, and all of them where it lists them', async () => {
    const cli = section(await doc('README.md'), '## CLI');
    const rows = cli.split('\n').filter((line) => /^\| `[a-z]/.test(line));
    const listed = new Map<string, string>();
    for (const row of rows) {
      const name = /^\| `([a-z]+)/.exec(row)?.[1] ?? '';
      listed.set(name, (listed.get(name) ?? '') + (row.split(' | ')[0] ?? ''));
    }
    expect([...listed.keys()].sort()).toEqual(Object.keys(COMMANDS).sort());
    // Flags every command (or the table's prose) covers, and commands whose row sends to --help.
    const shared = ['--root', '--json', '--help', '--restate'];
    const partial = ['migrate', 'restate', 'inspect', 'demo'];
    for (const [name, usage] of listed) {
      const help = optionsOf(await helpOf(name));
      for (const flag of flagsOf(usage)) expect(help, `${name} ${flag}`).toContain(flag);
      if (partial.includes(name)) continue;
      for (const flag of help)
        if (!shared.includes(flag)) expect(flagsOf(usage), `${name} ${flag}`).toContain(flag);
    }
  });
});

describe('docs/embedding.md', () => {
  it('names every channel of SESSION_CHANNELS under "Channels", and no other', async () => {
    const channels = section(await doc('docs/embedding.md'), '## Channels');
    const named = new Set([...channels.matchAll(/`(session:[A-Za-z]+)`/g)].map((m) => m[1]));
    named.delete('session:event'); // the event channel, not a call
    expect([...named].sort()).toEqual([...SESSION_CHANNELS].sort());
  });
});
