/**
 * @internal Where DAGent kept its conversations, and the search for them. DAGent's code wrote
 * them in three layouts over its life (see {@link LegacyLayout}); its docs named a fourth that its
 * code never wrote. Each feature directory may hold a PM chat (`chat.json`), per task node a dev
 * session (`nodes/<taskId>/session.json`) and a node chat (`nodes/<nodeId>/chat.json`), and the
 * flat session files of DAGent v3.0's session manager (`sessions/session_<id>.json`).
 *
 * Only real directories and regular files are taken: a symbolic link is never followed, so that
 * nothing outside the root is read.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../store/durable-fs.js';
import type { LegacyFileRef } from './legacy-file.js';
import type { LegacyKind, LegacyLayout, SearchedPlace } from './types.js';

/** What a search found, and where it looked. */
export interface LegacySearch {
  refs: LegacyFileRef[];
  searched: SearchedPlace[];
}

/** Names under a `features/` directory that hold features rather than being one. */
const CONTAINERS = ['backlog', 'archived'] as const;

/** The flat session files of DAGent v3.0: `session_<id>.json`. */
const SESSION_FILE = /^session_(.+)\.json$/;

const posix = (...parts: string[]) => parts.join('/');

/** Real subdirectories of `dir` (symbolic links are not followed), sorted; none when it is absent. */
async function subdirectories(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

/** Whether `file` is a regular file (a symbolic link is not). */
async function isRegularFile(file: string): Promise<boolean> {
  return lstat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** One directory holding a feature's files, and where it sits. */
interface FeatureDir {
  layout: LegacyLayout;
  featureId: string;
  /** Relative to the root, POSIX separators. */
  relative: string;
}

/** The feature directories of a `features/` directory: its features, and those of backlog/ and archived/. */
async function featuresIn(
  root: string,
  features: string,
  layout: 'documented' | 'manager-worktree',
  places: Map<string, SearchedPlace>,
): Promise<FeatureDir[]> {
  const found: FeatureDir[] = [];
  const place = (l: LegacyLayout, pattern: string) => {
    const existing = places.get(pattern) ?? { layout: l, pattern, featureDirs: 0 };
    places.set(pattern, existing);
    return existing;
  };
  const top = place(
    layout,
    layout === 'documented'
      ? '.dagent/features/<featureId>/'
      : '.dagent-worktrees/<manager>/.dagent/features/<featureId>/',
  );
  for (const name of await subdirectories(path.join(root, features))) {
    if ((CONTAINERS as readonly string[]).includes(name)) continue;
    found.push({ layout, featureId: name, relative: posix(features, name) });
    top.featureDirs++;
  }
  for (const container of CONTAINERS) {
    const at = place(
      container,
      layout === 'documented'
        ? `.dagent/features/${container}/<featureId>/`
        : `.dagent-worktrees/<manager>/.dagent/features/${container}/<featureId>/`,
    );
    for (const name of await subdirectories(path.join(root, features, container))) {
      found.push({ layout: container, featureId: name, relative: posix(features, container, name) });
      at.featureDirs++;
    }
  }
  return found;
}

/** Every feature directory under the root, in every layout, with the places looked in. */
async function featureDirs(root: string): Promise<{ dirs: FeatureDir[]; searched: SearchedPlace[] }> {
  const places = new Map<string, SearchedPlace>();
  const dirs = await featuresIn(root, '.dagent/features', 'documented', places);
  const worktree: SearchedPlace = {
    layout: 'feature-worktree',
    pattern: '.dagent-worktrees/<featureId>/.dagent/',
    featureDirs: 0,
  };
  places.set(worktree.pattern, worktree);
  for (const name of await subdirectories(path.join(root, '.dagent-worktrees'))) {
    const dagent = posix('.dagent-worktrees', name, '.dagent');
    // v3.0: the worktree is the feature's, and its .dagent/ holds the feature's files directly.
    const own = await Promise.all(
      ['chat.json', 'nodes', 'sessions'].map((entry) =>
        lstat(path.join(root, dagent, entry)).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (own.some(Boolean)) {
      dirs.push({ layout: 'feature-worktree', featureId: name, relative: dagent });
      worktree.featureDirs++;
    }
    // Later: the worktree is a manager's, holding several features under .dagent/features/.
    dirs.push(...(await featuresIn(root, posix(dagent, 'features'), 'manager-worktree', places)));
  }
  return { dirs, searched: [...places.values()] };
}

/** The legacy files of one feature directory, in the order they are migrated. */
async function filesOf(root: string, dir: FeatureDir): Promise<LegacyFileRef[]> {
  const refs: LegacyFileRef[] = [];
  const add = async (kind: LegacyKind, relative: string, taskId?: string) => {
    if (!(await isRegularFile(path.join(root, relative)))) return;
    refs.push({
      kind,
      layout: dir.layout,
      featureId: dir.featureId,
      ...(taskId === undefined ? {} : { taskId }),
      absolute: path.join(root, relative),
      relative,
    });
  };
  await add('pm-chat', posix(dir.relative, 'chat.json'));
  for (const node of await subdirectories(path.join(root, dir.relative, 'nodes'))) {
    await add('dev-session', posix(dir.relative, 'nodes', node, 'session.json'), node);
    await add('node-chat', posix(dir.relative, 'nodes', node, 'chat.json'), node);
  }
  let names: string[] = [];
  try {
    names = (await readdir(path.join(root, dir.relative, 'sessions'))).sort();
  } catch (error) {
    if (!isErrno(error, 'ENOENT') && !isErrno(error, 'ENOTDIR')) throw error;
  }
  for (const name of names)
    if (SESSION_FILE.test(name)) await add('dagent-session', posix(dir.relative, 'sessions', name));
  return refs;
}

/**
 * @internal Every DAGent conversation under `root`, in every layout: per feature directory its
 * PM chat, its nodes' dev sessions and chats, then its DAGent sessions. Backups
 * (`chat.json.backup...`) and DAGent's own `chat_`, `checkpoint_`... files (read with their
 * `session_` file) are not conversations of their own.
 *
 * @param filter - Only the files of this feature.
 */
export async function findLegacyFiles(
  root: string,
  filter: { featureId?: string } = {},
): Promise<LegacySearch> {
  const { dirs, searched } = await featureDirs(root);
  const refs: LegacyFileRef[] = [];
  for (const dir of dirs) {
    if (filter.featureId !== undefined && dir.featureId !== filter.featureId) continue;
    refs.push(...(await filesOf(root, dir)));
  }
  return { refs, searched };
}

/** @internal The documented place of a feature's PM chat: named when a feature has none anywhere. */
export function documentedPmChatRef(root: string, featureId: string): LegacyFileRef {
  const relative = posix('.dagent', 'features', featureId, 'chat.json');
  return {
    kind: 'pm-chat',
    layout: 'documented',
    featureId,
    absolute: path.join(root, relative),
    relative,
  };
}
