import { describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  buildInspectorBundle,
  inspectorHtml,
  loadInspectorAssets,
  writeInspectorAssets,
} from '../../src/inspector/bundle.js';
import { tempRoot } from '../helpers/temp-root.js';

describe('the inspector bundle', () => {
  it('bundles the page for browsers once per process: React in production mode, no Node modules', async () => {
    const first = await buildInspectorBundle();
    expect(await buildInspectorBundle()).toBe(first);
    expect(first.html).toMatch(/<script type="module" src="inspector\.js\?v=[0-9a-f]{12}"><\/script>/);
    expect(first.html).toContain('<div id="root"></div>');
    expect(first.js.length).toBeGreaterThan(50_000);
    expect(first.js).not.toMatch(/process\.env\.NODE_ENV|from"node:|require\("node:/);
    expect(first.js).toContain('dgi-root');
  });

  it('prefers prebuilt assets, and builds when there are none', async () => {
    const dir = path.join(await tempRoot(), 'inspector');
    const prebuilt = { html: inspectorHtml('x()', '.a{}'), js: 'x()', css: '.a{}' };
    expect(prebuilt.html).toContain('<link rel="stylesheet" href="inspector.css?v=');
    expect((await writeInspectorAssets(dir, prebuilt)).map((f) => path.basename(f))).toEqual([
      'index.html',
      'inspector.js',
      'inspector.css',
    ]);
    await expect(loadInspectorAssets({ dir })).resolves.toEqual(prebuilt);
    await expect(loadInspectorAssets({ dir: path.join(dir, 'missing') })).resolves.toBe(
      await buildInspectorBundle(),
    );
  });
});
