// What the engine's on-disk caches (quantized copies, weight norms) are keyed and kept by: a
// checkpoint's weight files as they are now (real path, size, modification time, so a file changed
// in place is a new checkpoint), and the user's cache folder.
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function filesIdentity(files: readonly string[]): [string, number, number][] {
  return files.map((f) => {
    const real = realpathSync(f);
    const s = statSync(real);
    return [real, s.size, s.mtimeMs];
  });
}

/** `override` (an environment variable's value) when set, else `name` in the user's cache folder. */
export function userCacheFolder(name: string, override: string | undefined): string {
  if (override) return override;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dit-auditor', name);
}
