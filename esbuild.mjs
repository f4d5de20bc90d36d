// Bundles every entry point of the project. onnxruntime-node stays external: it is a native addon.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['onnxruntime-node', 'vscode'],
  logLevel: 'warning',
};

await Promise.all([
  build({
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({ ...common, entryPoints: { 'engine-worker': 'src/engine/runtime/worker.ts' }, outdir: 'dist' }),
  build({ ...common, entryPoints: { 'bench-engine': 'bench/engine.ts' }, outdir: 'dist' }),
]);
