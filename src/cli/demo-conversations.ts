/**
 * @internal The PM and QA conversations of the demo, scripted from the project's own docs (which
 * ship with the package): the PM plans the feature section by section, the QA agent verifies it
 * section by section. Deterministic: the same docs give the same conversations.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContentBlock, MessageInput } from '../core/types.js';

interface Section {
  file: string;
  heading: string;
  body: string;
}

async function sections(root: string, files: readonly string[]): Promise<Section[]> {
  const out: Section[] = [];
  for (const file of files) {
    const text = await readFile(path.join(root, file), 'utf8').catch(() => '');
    const parts = text.split(/^## /m).slice(1);
    for (const part of parts) {
      const newline = part.indexOf('\n');
      const heading = part.slice(0, newline === -1 ? undefined : newline).trim();
      const body = newline === -1 ? '' : part.slice(newline + 1).trim();
      if (heading && body) out.push({ file, heading, body });
    }
  }
  return out;
}

/** @internal The first sentence or so of a section, for a short answer. */
function gist(body: string, words = 60): string {
  const plain = body
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/\|/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.split(' ').slice(0, words).join(' ');
}

/** @internal The PM's planning conversation: one question, answer and decision per doc section. */
export async function pmConversation(root: string): Promise<MessageInput[]> {
  const messages: MessageInput[] = [
    {
      role: 'user',
      content:
        'We are planning dagent-sessions. Walk me through the plan, part by part, and record the decisions.',
    },
  ];
  for (const s of await sections(root, ['README.md', 'docs/architecture.md', 'docs/embedding.md'])) {
    messages.push({ role: 'user', content: `What is the plan for "${s.heading}" (${s.file})?` });
    messages.push({
      role: 'assistant',
      content:
        `${gist(s.body)}\n\nDecided: ${s.heading} stays as described in ${s.file}.\nTODO: ` +
        `a task for "${s.heading}" in the DAG, with its checks.`,
    });
  }
  messages.push({
    role: 'assistant',
    content:
      'The plan is complete: every part has a task in the DAG. Next: the dev and QA agents take them ' +
      'in dependency order.',
  });
  return messages;
}

/** @internal The QA agent's verification: a check per doc section, run as a tool call. */
export async function qaConversation(root: string): Promise<MessageInput[]> {
  const messages: MessageInput[] = [
    { role: 'user', content: 'Verify the documented behaviour, section by section, and report each check.' },
  ];
  let n = 0;
  for (const s of await sections(root, [
    'docs/migration.md',
    'docs/inspector.md',
    'docs/file-structure.md',
  ])) {
    const id = `toolu_qa_${n++}`;
    const command = `npx vitest run -t "${s.heading.replace(/"/g, '')}"`;
    const call: ContentBlock[] = [
      { type: 'text', text: `Checking "${s.heading}".` },
      { type: 'tool_use', id, name: 'Bash', input: { command } },
    ];
    messages.push({ role: 'assistant', content: call });
    messages.push({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: id, content: `${gist(s.body, 40)}\n\n✓ ${s.heading} (passed)` },
      ],
    });
    messages.push({ role: 'assistant', content: `Check "${s.heading}" passed: ran \`${command}\` (ok).` });
  }
  messages.push({ role: 'assistant', content: 'All checks passed. Ready for review.' });
  return messages;
}
