/**
 * The command table: global help, `help COMMAND`, `--help` on every command, unknown commands and
 * flags, and the exit codes of usage errors.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/main.js';
import { run } from './cli-helpers.js';

const NAMES = Object.keys(COMMANDS);

describe('dagent-sessions', () => {
  it('has the commands of the issue', () => {
    expect(NAMES).toEqual([
      'demo',
      'inspect',
      'replay',
      'import',
      'list',
      'show',
      'preview',
      'compact',
      'export',
      'migrate',
      'repair',
      'restate',
    ]);
  });

  it('prints its usage for --help, -h and help (exit 0), and on stderr without a command (exit 1)', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const r = await run(...argv);
      expect(r.code).toBe(0);
      for (const name of NAMES) expect(r.stdout()).toContain(`  ${name}`);
    }
    const none = await run();
    expect(none.code).toBe(1);
    expect(none.stdout()).toBe('');
    expect(none.stderr()).toContain('Usage: dagent-sessions <command>');
  });

  it('says inspect serves the page and changes sessions, not that it only reads', async () => {
    const usage = (await run('--help')).stdout();
    const line = usage.split('\n').find((l) => l.startsWith('  inspect'));
    expect(line).toContain('serve the inspector page');
    expect(line).not.toContain('read-only');
    expect(usage).not.toMatch(/export and inspect only read/);
    expect(usage).toContain('inspect takes the write lock when the root is free');
  });

  it('claims --root and exit codes only as the commands have them', async () => {
    const usage = (await run('--help')).stdout().replace(/\s+/g, ' ');
    const without: string[] = [];
    for (const name of NAMES) {
      if (!(await run(name, '--help')).stdout().includes('--root DIR')) without.push(name);
    }
    expect(without).toEqual(['restate']);
    expect(usage).toContain('Every command but restate takes --root DIR');
    expect((await run('migrate', '--help')).stdout().replace(/\s+/g, ' ')).toContain(
      '3 when no DAGent conversation',
    );
    expect(usage).toContain('3 migrate found no DAGent conversation');
  });

  it('refuses an unknown command with the usage on stderr (exit 1)', async () => {
    const r = await run('frobnicate', '--root', '.');
    expect(r.code).toBe(1);
    expect(r.stderr()).toContain('unknown command "frobnicate"');
    expect(r.stderr()).toContain('Usage: dagent-sessions <command>');
    expect((await run('help', 'frobnicate')).code).toBe(1);
    expect((await run('__proto__')).code).toBe(1);
  });

  it.each(NAMES)('%s --help prints its own usage (exit 0), as does help %s', async (name) => {
    for (const argv of [
      [name, '--help'],
      [name, '-h'],
      ['help', name],
    ]) {
      const r = await run(...argv);
      expect(r.code).toBe(0);
      expect(r.stdout()).toContain(`Usage: dagent-sessions ${name}`);
    }
  });

  it.each(NAMES)('%s refuses an unknown flag with a clear message (exit 1)', async (name) => {
    const r = await run(name, '--bogus');
    expect(r.code).toBe(1);
    expect(r.stderr()).toContain(`dagent-sessions ${name}:`);
    expect(r.stderr()).toContain("'--bogus'");
  });

  it('says which argument is missing or extra, and which value is wrong', async () => {
    const missing = await run('show');
    expect(missing.code).toBe(1);
    expect(missing.stderr()).toContain('missing ID');
    expect(missing.stderr()).toContain('dagent-sessions show --help');
    const extra = await run('list', 'what');
    expect(extra.code).toBe(1);
    expect(extra.stderr()).toContain('unexpected argument "what"');
    const bad = await run('show', 'feature--f1--pm', '--messages', 'many');
    expect(bad.code).toBe(1);
    expect(bad.stderr()).toContain('--messages must be an integer >= 0, got "many" (INVALID_ARGUMENT)');
    const noValue = await run('show', 'feature--f1--pm', '--root');
    expect(noValue.code).toBe(1);
    expect(noValue.stderr()).toContain("'--root <value>' argument missing");
  });

  it('reports a root that is not a directory', async () => {
    const r = await run('list', '--root', '/nonexistent/dagent-cli-root');
    expect(r.code).toBe(1);
    expect(r.stderr()).toContain('/nonexistent/dagent-cli-root is not a directory');
    expect(r.stderr()).toContain('(INVALID_ARGUMENT)');
  });
});
