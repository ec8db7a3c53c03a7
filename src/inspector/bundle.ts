/**
 * The inspector page's assets: an HTML shell and one JavaScript bundle (React included). A
 * published install reads them from `dist/inspector/` (written by `scripts/build-inspector.ts`
 * at build time, so no bundler is needed at run time); a checkout builds them with esbuild on
 * first use, once per process.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';
import { SessionError, describeError } from '../core/errors.js';

/**
 * What the page is made of. `html` loads `inspector.js` (and `inspector.css` when there is one)
 * relative to itself.
 * @example const { html, js } = await loadInspectorAssets();
 */
export interface InspectorAssets {
  html: string;
  js: string;
  css?: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** `dist/inspector/` seen from `dist/src/inspector/` (a checkout's `src/inspector/` finds nothing there). */
const PREBUILT_DIR = path.resolve(HERE, '../../inspector');

/**
 * The HTML shell of the page, loading `inspector.js?v=<hash of js>`.
 * @internal
 */
export function inspectorHtml(js: string, css?: string): string {
  const version = createHash('sha256')
    .update(js)
    .update(css ?? '')
    .digest('hex')
    .slice(0, 12);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>dagent-sessions inspector</title>',
    '<link rel="icon" href="data:,">',
    css === undefined ? '' : `<link rel="stylesheet" href="inspector.css?v=${version}">`,
    '</head>',
    '<body style="margin:0">',
    '<div id="root"></div>',
    `<script type="module" src="inspector.js?v=${version}"></script>`,
    '</body>',
    '</html>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

let built: Promise<InspectorAssets> | null = null;

/**
 * Bundles the page (`src/inspector/page.tsx`: React, the components and the HTTP client) with
 * esbuild: ESM, minified, production React. The result is cached for the life of the process.
 *
 * @returns The HTML shell and the bundle.
 * @throws SessionError `IO_ERROR` when esbuild is not installed (it is a dev dependency: a
 *   published install uses the prebuilt `dist/inspector/` instead) or the bundle fails.
 * @example const { html, js } = await buildInspectorBundle();
 */
export function buildInspectorBundle(): Promise<InspectorAssets> {
  built ??= bundle().catch((error: unknown) => {
    built = null; // a later call may succeed (esbuild installed meanwhile)
    throw error;
  });
  return built;
}

async function bundle(): Promise<InspectorAssets> {
  let esbuild: typeof Esbuild;
  try {
    esbuild = await import('esbuild');
  } catch (error) {
    throw new SessionError(
      'IO_ERROR',
      'runtime',
      `inspector: no prebuilt page in ${PREBUILT_DIR} and esbuild is not installed to build one ` +
        `(${describeError(error)}); run "npm run build" in a checkout, or "npm install esbuild"`,
      { cause: error },
    );
  }
  const tsx = path.join(HERE, 'page.tsx');
  const entry = await access(tsx).then(
    () => tsx,
    () => path.join(HERE, 'page.js'),
  );
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      legalComments: 'eof',
      logLevel: 'silent',
    });
    const js = result.outputFiles[0]?.text;
    if (js === undefined) throw new Error('esbuild wrote no output');
    return { html: inspectorHtml(js), js };
  } catch (error) {
    throw new SessionError(
      'IO_ERROR',
      'runtime',
      `inspector: bundling ${entry} failed: ${describeError(error)}`,
      { cause: error },
    );
  }
}

/**
 * The page's assets: the prebuilt ones in `dir` (default: this package's `dist/inspector/`) when
 * they are there, else a fresh {@link buildInspectorBundle}.
 *
 * @param options - `dir`: where `index.html` and `inspector.js` were written.
 * @throws SessionError `IO_ERROR` when neither prebuilt files nor esbuild are there, or a file
 *   cannot be read.
 * @example
 * ```ts
 * const server = await serveSessions(runtime, { page: createInspectorHandler(await loadInspectorAssets()) });
 * ```
 */
export async function loadInspectorAssets(options: { dir?: string } = {}): Promise<InspectorAssets> {
  const dir = options.dir ?? PREBUILT_DIR;
  const read = async (name: string) => readFile(path.join(dir, name), 'utf8');
  try {
    const [html, js] = await Promise.all([read('index.html'), read('inspector.js')]);
    const css = await read('inspector.css').catch(() => undefined);
    return css === undefined ? { html, js } : { html, js, css };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SessionError(
        'IO_ERROR',
        'runtime',
        `inspector: could not read the page in ${dir}: ${describeError(error)}`,
        { cause: error },
      );
    }
    return buildInspectorBundle();
  }
}

/**
 * Writes the assets as `index.html`, `inspector.js` (and `inspector.css`) into `dir`, creating it.
 * @example await writeInspectorAssets('dist/inspector', await buildInspectorBundle());
 */
export async function writeInspectorAssets(dir: string, assets: InspectorAssets): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ['index.html', assets.html],
    ['inspector.js', assets.js],
    ...(assets.css === undefined ? [] : [['inspector.css', assets.css] as [string, string]]),
  ];
  await Promise.all(files.map(([name, text]) => writeFile(path.join(dir, name), text)));
  return files.map(([name]) => path.join(dir, name));
}
