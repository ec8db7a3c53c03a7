/**
 * @internal The session a file goes into (`replay`, `import`): from `--feature`, `--task`,
 * `--agent` and `--state`, or derived from the file's name.
 */
import path from 'node:path';
import { SessionError } from '../core/errors.js';
import { validateKey } from '../core/ids.js';
import type { SessionKey } from '../core/types.js';

/** @internal The key flags shared by `replay` and `import`. */
export const KEY_OPTIONS = {
  feature: { type: 'string' },
  task: { type: 'string' },
  agent: { type: 'string' },
  state: { type: 'string' },
} as const;

/** @internal Usage lines of {@link KEY_OPTIONS}. */
export function keyUsage(defaultFeature: string): string {
  return [
    `  --feature ID         feature of the session (default "${defaultFeature}")`,
    '  --task ID            task of the session (default: the file name, cleaned); --feature without',
    '                       --task makes a feature session',
    '  --agent TYPE         pm, dev, qa, harness or merge (default dev)',
    '  --state STATE        task state: planning, in_dev, in_qa, in_review, merging (default in_dev)',
  ].join('\n');
}

/**
 * @internal A file name as a session id part: letters, digits, `.`, `-`, `_`; no `--` or `..`.
 * @example idPartOf('/logs/My Session (2).jsonl') // 'My-Session-2'
 */
export function idPartOf(file: string): string {
  const stem = path.basename(file).replace(/\.(jsonl|json)$/i, '');
  const clean = stem
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 100)
    .replace(/[-.]+$/, '');
  if (clean === '' || ['constructor', 'prototype', '__proto__'].includes(clean))
    return `file-${clean || 'transcript'}`;
  return clean;
}

/**
 * @internal The key of the session a file goes into.
 * @throws SessionError `INVALID_KEY` for bad values; `INVALID_ARGUMENT` for `--state` without a task.
 */
export function sessionKeyOf(
  flags: {
    feature?: string | undefined;
    task?: string | undefined;
    agent?: string | undefined;
    state?: string | undefined;
  },
  file: string,
  defaultFeature: string,
): SessionKey {
  const agentType = flags.agent ?? 'dev';
  if (flags.feature !== undefined && flags.task === undefined) {
    if (flags.state !== undefined) {
      throw new SessionError(
        'INVALID_ARGUMENT',
        'cli',
        '--state is the state of a task: pass --task ID with it (or leave --state out for a feature session)',
      );
    }
    return validateKey({ type: 'feature', agentType, featureId: flags.feature });
  }
  return validateKey({
    type: 'task',
    agentType,
    featureId: flags.feature ?? defaultFeature,
    taskId: flags.task ?? idPartOf(file),
    taskState: flags.state ?? 'in_dev',
  });
}
