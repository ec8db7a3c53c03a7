/**
 * @internal Migration manifests: `<root>/.dagent/migrations/<id>.json`, one per migration run,
 * written atomically and durably. They make a re-run idempotent (a file already migrated with
 * the same sha256 is skipped) and a rollback possible (what was created, from which backup).
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SessionError, describeError } from '../core/errors.js';
import { atomicWriteFile, ensureDir, isErrno, readTextOrNull } from '../store/durable-fs.js';
import { isRecord } from './json-shape.js';
import type { ManifestFile, MigrationManifest } from './types.js';

/** @internal `<root>/.dagent/migrations`. */
export function migrationsDir(root: string): string {
  return path.join(root, '.dagent', 'migrations');
}

/** @internal The manifest file of a migration. */
export function manifestPath(root: string, id: string): string {
  return path.join(migrationsDir(root), `${id}.json`);
}

/** @internal The directory of a migration's own copies (pre-existing sessions, rolled-back sessions). */
export function migrationWorkDir(root: string, id: string): string {
  return path.join(migrationsDir(root), id);
}

/** @internal `20250301T101500123Z`: a timestamp that sorts and is a safe file name. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

/** @internal A new migration id: its start time, then a random suffix (`20250301T101500123Z-a1b2c3`). */
export function newMigrationId(now: Date): string {
  return `${compactTimestamp(now)}-${randomBytes(3).toString('hex')}`;
}

const MIGRATION_ID = /^\d{8}T\d{9}Z-[0-9a-f]{6}$/;

/** @internal Whether `id` has the form of a migration id (and so is a safe path segment). */
export function isMigrationId(id: string): boolean {
  return MIGRATION_ID.test(id);
}

/** @internal Writes a manifest atomically and durably. */
export async function writeManifest(root: string, manifest: MigrationManifest): Promise<void> {
  await ensureDir(migrationsDir(root));
  await atomicWriteFile(manifestPath(root, manifest.id), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * @internal Reads one manifest.
 * @throws SessionError `CORRUPT_FILE` when it does not parse (it is never overwritten then).
 */
export async function readManifest(root: string, id: string): Promise<MigrationManifest | null> {
  const file = manifestPath(root, id);
  const text = await readTextOrNull(file);
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (
      !isRecord(value) ||
      value.version !== 1 ||
      typeof value.id !== 'string' ||
      !Array.isArray(value.files)
    )
      throw new Error('not a migration manifest');
    return value as unknown as MigrationManifest;
  } catch (error) {
    throw new SessionError(
      'CORRUPT_FILE',
      'store',
      `migration manifest ${file} does not parse (${describeError(error)}); repair it or move it away`,
      { cause: error, details: { file } },
    );
  }
}

/** @internal Every manifest under the root, oldest first. */
export async function listManifests(root: string): Promise<MigrationManifest[]> {
  let names: string[];
  try {
    names = await readdir(migrationsDir(root));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const ids = names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter(isMigrationId)
    .sort();
  const manifests: MigrationManifest[] = [];
  for (const id of ids) {
    const manifest = await readManifest(root, id);
    if (manifest) manifests.push(manifest);
  }
  return manifests;
}

/** @internal The latest record of a legacy file in migrations that were not rolled back. */
export function recordOf(
  manifests: readonly MigrationManifest[],
  legacyPath: string,
): { manifest: MigrationManifest; file: ManifestFile } | null {
  for (let i = manifests.length - 1; i >= 0; i--) {
    const manifest = manifests[i]!;
    if (manifest.status === 'rolled-back') continue;
    const file = manifest.files.find((f) => f.legacyPath === legacyPath);
    if (file) return { manifest, file };
  }
  return null;
}
