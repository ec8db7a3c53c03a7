/**
 * @internal The files the demo's Dev conversation reads: the package's own sources (TypeScript in
 * a checkout, compiled JavaScript in an install), its docs and its README.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A project file the scripted agent can read. */
export interface SourceFile {
  /** Path relative to the project root, with `/` separators. */
  path: string;
  text: string;
}

/** @internal */
async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, keep)));
    else if (entry.isFile() && keep(entry.name)) out.push(full);
  }
  return out;
}

/**
 * Reads the package's own files: `src/**\/*.ts` and `machines/**\/*.ts` in a checkout, or, in an
 * install (which has no TypeScript sources), the compiled `dist/src/**\/*.js` and
 * `dist/machines/**\/*.js`; then `docs/*.md` and `README.md`, whichever exist; sorted by path.
 *
 * @param root - the package (or project) root.
 * @returns the files, paths relative to `root` with `/` separators.
 * @example const files = await collectSources(process.cwd());
 */
export async function collectSources(root: string): Promise<SourceFile[]> {
  const ts = (name: string): boolean => name.endsWith('.ts') && !name.endsWith('.d.ts');
  const js = (name: string): boolean => name.endsWith('.js');
  let code = [...(await walk(join(root, 'src'), ts)), ...(await walk(join(root, 'machines'), ts))];
  if (code.length === 0)
    code = [
      ...(await walk(join(root, 'dist', 'src'), js)),
      ...(await walk(join(root, 'dist', 'machines'), js)),
    ];
  const paths = [
    ...code,
    ...(await readdir(join(root, 'docs')).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.md'))
      .map((n) => join(root, 'docs', n)),
    ...(await readFile(join(root, 'README.md'))
      .then(() => [join(root, 'README.md')])
      .catch(() => [] as string[])),
  ];
  const files = await Promise.all(
    paths.map(async (p) => ({
      path: relative(root, p).split(sep).join('/'),
      text: await readFile(p, 'utf8'),
    })),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
