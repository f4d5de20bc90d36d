// The demo world the VSIX ships (media/demo, installed under the extension), as the end-to-end test
// meets it: what its manifest says about the example diffs, and a copy of the whole world in the
// workspace, as a user would make one: the copy's own manifest.json pairs its diffs with its own
// base and DIT-adapter, wherever it lies.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The installed demo world, or undefined when the VSIX ships none. */
export function shippedDemoWorld(extDir) {
  return readWorld(join(extDir, 'media', 'demo'));
}

/** What the manifest in `dir` says, at the paths of `dir`. */
function readWorld(dir) {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const example = (kind) => {
    const entry = manifest.diffs.find(
      (d) => typeof d === 'object' && d.split === 'example' && d.kind === kind,
    );
    if (!entry) throw new Error(`${file} lists no example diff of kind ${kind}`);
    return {
      name: basename(entry.path),
      path: resolve(dir, entry.path),
      entry: entry.path,
      topic: entry.topic ?? null,
    };
  };
  return {
    manifest: file,
    base: resolve(dir, manifest.base),
    interpreter: resolve(dir, manifest.interpreters[0].path),
    backdoored: example('backdoored'),
    benign: example('benign'),
  };
}

/** A copy of the whole world in `folder`: the same description, at the copy's paths. */
export function copyWorld(world, folder) {
  cpSync(join(world.manifest, '..'), folder, { recursive: true });
  return readWorld(folder);
}

/** `word` alone, in any case: not inside a longer word. */
export function wholeWord(word) {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu');
}

/** The report the CLI gives for a diff of the repository's own demo world. */
export function cliReport(cli, repo, diff, extra = []) {
  const path = join(repo, 'media', 'demo', diff.entry);
  const args = [cli, 'audit', path, '--json', '--no-cache', '--provider', 'cpu', ...extra];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  // Exit 0: clean, 1: findings; both print the report.
  if (run.status !== 0 && run.status !== 1) throw new Error(`dit-audit audit ${path}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The interpreter answers of a report, in order. */
export function interpreterAnswers(report) {
  return report.answers.filter((a) => a.interpreter !== null).map((a) => a.answer);
}
