// Bundles every entry point of the project. onnxruntime-node stays external: it is a native addon
// (shipped in the VSIX as node_modules/onnxruntime-node), and `vscode` is provided by the editor.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { writeThirdPartyNotices } from './third-party-notices.mjs';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['onnxruntime-node', 'vscode'],
  logLevel: 'warning',
  metafile: true,
};

const results = await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({ ...common, entryPoints: { 'engine-worker': 'src/engine/runtime/worker.ts' }, outdir: 'dist' }),
  // The inference worker's quantizing threads (quant/quantize-pool.ts).
  build({
    ...common,
    entryPoints: { 'quantize-worker': 'src/engine/quant/quantize-worker.ts' },
    outdir: 'dist',
  }),
  build({ ...common, entryPoints: { 'bench-engine': 'bench/engine.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-triggers': 'bench/triggers.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-quantize': 'bench/quantize.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-kv-products': 'bench/kv-products.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-pickle-scan': 'bench/pickle-scan.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-workspace-scan': 'bench/workspace-scan.ts' }, outdir: 'dist' }),
  // The VS Code extension (extension host, Node).
  build({ ...common, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' }),
  // Its pickle scanner, a worker thread (the engine's allowlist reader, no VS Code API).
  build({
    ...common,
    entryPoints: { 'pickle-scan-worker': 'src/extension/pickles/scan-worker.ts' },
    outdir: 'dist',
  }),
  // The report panel (a browser page inside a webview: no Node, strict CSP, one script).
  build({
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
  }),
]);
// The codicon font for the panels' <vscode-icon>s: the page links its stylesheet (panel/html.ts).
mkdirSync('dist/codicons', { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf'])
  copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/codicons/${file}`);
writeThirdPartyNotices(
  results.map((r) => r.metafile),
  'dist/THIRD-PARTY-NOTICES.txt',
);
