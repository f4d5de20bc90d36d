// Runs the built CLI on a hostile input as a user would, and measures what it cost: wall time,
// peak memory (through peak-rss.cjs), and whether anything changed in the folders it was given.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../paths';

export interface BoundedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** Peak resident memory in MiB; undefined when the process died before exiting normally. */
  readonly peakMiB?: number;
  /** Entries of the watched folders that appeared, vanished or changed size during the run. */
  readonly changed: readonly string[];
}

/** Name → size of everything under `dir` (symlinks as links, not followed). */
function listing(dir: string, out = new Map<string, number>(), prefix = ''): Map<string, number> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.set(`${prefix}${name}`, st.isFile() ? st.size : -1);
    if (st.isDirectory()) listing(path, out, `${prefix}${name}/`);
  }
  return out;
}

export function runBounded(
  args: readonly string[],
  watch: readonly string[],
  timeoutMs = 30_000,
): BoundedRun {
  const rssFile = join(watch[0], '..', `.peak-rss-${process.pid}-${Date.now()}`);
  const before = watch.map((d) => listing(d));
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      NODE_OPTIONS: `--require ${join(__dirname, 'peak-rss.cjs')}`,
      DIT_PEAK_RSS_FILE: rssFile,
    },
  });
  const seconds = (performance.now() - started) / 1000;
  let peakMiB: number | undefined;
  if (existsSync(rssFile)) {
    peakMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
    rmSync(rssFile);
  }
  const changed: string[] = [];
  watch.forEach((dir, i) => {
    const after = listing(dir);
    for (const [name, size] of after) if (before[i].get(name) !== size) changed.push(join(dir, name));
    for (const name of before[i].keys()) if (!after.has(name)) changed.push(join(dir, name));
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds, peakMiB, changed };
}
