// The demo worlds an audit may belong to: the packaged one, and any world (a `manifest.json` with
// its base, DIT-adapters and diffs) lying above the checkpoint or its base, wherever it was copied.
import { dirname, join, resolve } from 'node:path';
import { type DemoManifest, readDemoManifest } from './demo-manifest';

/** How many folders up from a checkpoint (or a base) a world's manifest may lie: `world/diffs/one`. */
const LEVELS_UP = 3;
const MANIFEST = 'manifest.json';

export interface WorldManifests {
  readonly found: DemoManifest[];
  /** Why a packaged manifest lists nothing (a `manifest.json` found by walking up is skipped silently: it may be anyone's). */
  readonly problems: string[];
}

/** The packaged manifests, then the `manifest.json` in each folder of `near` and up to three above it. */
export function worldManifests(packaged: readonly string[], near: readonly string[]): WorldManifests {
  const found: DemoManifest[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const read = (file: string, quiet: boolean) => {
    const abs = resolve(file);
    if (seen.has(abs)) return;
    seen.add(abs);
    try {
      const manifest = readDemoManifest(abs);
      if (manifest) found.push(manifest);
    } catch (error) {
      if (!quiet) problems.push((error as Error).message);
    }
  };
  for (const file of packaged) read(file, false);
  for (const start of near) {
    let dir = resolve(start);
    for (let level = 0; level <= LEVELS_UP; level++) {
      read(join(dir, MANIFEST), true);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return { found, problems };
}
