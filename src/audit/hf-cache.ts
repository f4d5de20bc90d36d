// Models in the Hugging Face hub cache: `models--org--name/snapshots/<rev>/`, rev from refs/main.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isModelFolder } from '../engine/checkpoint/classify';

/** Where huggingface_hub keeps its cache, in its own order of precedence. */
export function defaultHfCacheDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.HF_HUB_CACHE) dirs.push(env.HF_HUB_CACHE);
  if (env.HUGGINGFACE_HUB_CACHE) dirs.push(env.HUGGINGFACE_HUB_CACHE);
  if (env.HF_HOME) dirs.push(join(env.HF_HOME, 'hub'));
  if (env.XDG_CACHE_HOME) dirs.push(join(env.XDG_CACHE_HOME, 'huggingface', 'hub'));
  dirs.push(join(homedir(), '.cache', 'huggingface', 'hub'));
  return [...new Set(dirs)];
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function isRepoId(name: string): boolean {
  return REPO_ID.test(name) && !name.includes('..');
}

/** The snapshot folder of `repoId` (refs/main's, else the newest) that holds a model (config.json and weights). */
export function findInHfCache(repoId: string, cacheDirs: readonly string[]): string | undefined {
  if (!isRepoId(repoId)) return undefined;
  for (const cache of cacheDirs) {
    const repo = join(cache, `models--${repoId.replace('/', '--')}`);
    const snapshots = join(repo, 'snapshots');
    if (!existsSync(snapshots)) continue;
    const main = readRef(join(repo, 'refs', 'main'));
    const revs = readdirSync(snapshots)
      .map((rev) => ({ rev, dir: join(snapshots, rev) }))
      .filter((s) => isModelFolder(s.dir))
      .sort((a, b) => statSync(b.dir).mtimeMs - statSync(a.dir).mtimeMs);
    const chosen = revs.find((s) => s.rev === main) ?? revs[0];
    if (chosen) return chosen.dir;
  }
  return undefined;
}

function readRef(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
