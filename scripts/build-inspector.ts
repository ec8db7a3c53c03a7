/**
 * Writes the inspector page into `dist/inspector/` (`index.html`, `inspector.js`), so that a
 * published install serves it without a bundler. Part of `npm run build`.
 *
 * Run with `npx tsx scripts/build-inspector.ts [outDir]`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInspectorBundle, writeInspectorAssets } from '../src/inspector/bundle.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(root, process.argv[2] ?? 'dist/inspector');
const assets = await buildInspectorBundle();
for (const file of await writeInspectorAssets(outDir, assets))
  console.log(`wrote ${path.relative(root, file)}`);
console.log(`inspector bundle: ${(Buffer.byteLength(assets.js) / 1024).toFixed(0)} KiB`);
