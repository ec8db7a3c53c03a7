/**
 * Legacy fixtures copied into temporary roots (real files), and what the sessions must hold
 * after a migration, read straight from the legacy files.
 */
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempRoot } from '../helpers/temp-root.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/legacy');

/** The valid legacy files, relative to a root. */
export const VALID_FILES = [
  '.dagent/features/checkout/chat.json',
  '.dagent/features/checkout/nodes/cart-api/session.json',
  '.dagent/features/checkout/nodes/payment-form/session.json',
  '.dagent/features/search/chat.json',
  '.dagent/features/search/nodes/indexer/session.json',
] as const;

export const SESSION_OF: Record<(typeof VALID_FILES)[number], string> = {
  '.dagent/features/checkout/chat.json': 'feature--checkout--pm',
  '.dagent/features/checkout/nodes/cart-api/session.json': 'task--checkout--cart-api--in_dev--dev',
  '.dagent/features/checkout/nodes/payment-form/session.json': 'task--checkout--payment-form--in_dev--dev',
  '.dagent/features/search/chat.json': 'feature--search--pm',
  '.dagent/features/search/nodes/indexer/session.json': 'task--search--indexer--in_dev--dev',
};

/** A temporary root holding a copy of the valid legacy fixtures. */
export async function validRoot(): Promise<string> {
  const root = await tempRoot('dagent-migration-');
  await cp(path.join(FIXTURES, 'valid'), root, { recursive: true });
  return root;
}

/** Where a legacy file of the given kind goes in a root (feature f1, task t1). */
export function legacyPath(kind: 'pm' | 'dev', featureId = 'f1', taskId = 't1'): string {
  return kind === 'pm'
    ? `.dagent/features/${featureId}/chat.json`
    : `.dagent/features/${featureId}/nodes/${taskId}/session.json`;
}

/** Writes `content` (or a corrupt fixture by name) as a legacy file into `root`; returns its relative path. */
export async function placeLegacy(
  root: string,
  kind: 'pm' | 'dev',
  content: { fixture: string } | { text: string } | { json: unknown },
  ids: { featureId?: string; taskId?: string } = {},
): Promise<string> {
  const rel = legacyPath(kind, ids.featureId, ids.taskId);
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  const text =
    'fixture' in content
      ? await readFile(path.join(FIXTURES, 'corrupt', content.fixture), 'utf8')
      : 'text' in content
        ? content.text
        : JSON.stringify(content.json, null, 2);
  await writeFile(path.join(root, rel), text);
  return rel;
}

/** A message as the legacy file says it must come out of the session. */
export interface Expected {
  role: 'user' | 'assistant';
  content: string;
  timestamp: string;
  index: number;
  raw: Record<string, unknown>;
}

/** What a session must hold after migrating the legacy file `rel` (entries at `only` indices, or all). */
export async function expectedMessages(
  root: string,
  rel: string,
  only?: readonly number[],
): Promise<Expected[]> {
  const value = JSON.parse(await readFile(path.join(root, rel), 'utf8')) as {
    entries?: Record<string, unknown>[];
    messages?: Record<string, unknown>[];
  };
  const list = rel.endsWith('chat.json') ? value.entries! : value.messages!;
  return list
    .map((raw, index) => [raw, index] as const)
    .filter(([, index]) => only === undefined || only.includes(index))
    .map(([raw, index]) => ({
      role: (rel.endsWith('chat.json')
        ? raw.role
        : raw.direction === 'task_to_harness'
          ? 'assistant'
          : 'user') as 'user' | 'assistant',
      content: raw.content as string,
      timestamp: raw.timestamp as string,
      index,
      raw,
    }));
}
