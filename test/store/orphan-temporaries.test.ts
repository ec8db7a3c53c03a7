/**
 * Loading a session removes the temporary files of atomic writes that a crashed process left
 * (`.<file>.<pid>.<hex>.tmp`), and only those: a crashed process with this process's pid (a
 * container's process starts with the same pid every time) left orphans too, and a temporary this
 * process is writing is kept.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSessionRuntime } from '../../src/runtime/create-session-runtime.js';
import { temporaryBeside } from '../../src/store/durable-fs.js';
import { tempRoot } from '../helpers/temp-root.js';

describe('temporaries left by a crash', () => {
  it('are removed when the session loads, whatever pid made them; ours and other files stay', async () => {
    const root = await tempRoot();
    let runtime = await createSessionRuntime({ root });
    const { id } = await runtime.createSession({ type: 'feature', agentType: 'pm', featureId: 'f1' });
    await runtime.addMessage(id, { role: 'user', content: 'kept' });
    await runtime.close();

    const dir = path.join(root, '.dagent', 'sessions', id);
    const orphans = [
      `.chat.json.${process.pid}.0badf00d.tmp`, // before round 13's names, made with this pid
      `.chat.json.${process.pid}.0badf00d12345678.tmp`, // this pid, another process's mark
      `.checkpoint.json.4194303.0badf00d12345678.tmp`, // another pid
      `archive/.000001.json.${process.pid}.0badf00d.tmp`,
    ];
    const ours = path.basename(temporaryBeside(path.join(dir, 'chat.json')));
    const others = ['notes.txt', '.chat.json.tmp', `.chat.json.${process.pid}.tmp`];
    await mkdir(path.join(dir, 'archive'), { recursive: true });
    for (const name of [...orphans, ours, ...others]) await writeFile(path.join(dir, name), 'partial');

    runtime = await createSessionRuntime({ root });
    expect((await runtime.getMessages(id)).map((m) => m.content)).toEqual(['kept']);
    await runtime.close();
    const left = [
      ...(await readdir(dir)),
      ...(await readdir(path.join(dir, 'archive'))).map((n) => `archive/${n}`),
    ];
    for (const name of orphans) expect(left).not.toContain(name);
    for (const name of [ours, ...others]) expect(left).toContain(name);
  });
});
