// A job array's view of the CLI: `audit --shard I/N` splits the paths the same way in every job
// (each path in exactly one shard, JSON always a list), and `merge` joins the jobs' JSON into one
// set of reports in any format, refusing a checkpoint reported twice or a file that is no report.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../engine/helpers';
import { makeTinyWorld, type TinyWorld } from './helpers';

let world: TinyWorld;
let diffs: string[];

beforeAll(() => {
  world = makeTinyWorld();
  diffs = [world.diff];
  for (const name of ['second', 'third']) {
    const copy = join(world.root, name);
    cpSync(world.diff, copy, { recursive: true });
    const config = join(copy, 'adapter_config.json');
    writeFileSync(config, readFileSync(config, 'utf8').replace('{', `{\n  "revision": "${name}",`));
    diffs.push(copy);
  }
});
afterAll(() => rmSync(world.root, { recursive: true, force: true }));

const audit = (shard: string) =>
  runCli(
    [
      ...['audit', ...diffs, '--shard', shard, '--base', world.base, '--interpreter', world.interpreter],
      ...['--trigger-budget', '0', '--no-cache', '--provider', 'cpu', '--json'],
    ],
    120_000,
  );

describe('audit --shard and merge', () => {
  it('gives each path to exactly one shard, and merge joins the shards as one audit of all', () => {
    const shards = ['1/2', '2/2'].map((s) => {
      const r = audit(s);
      expect(r.code, r.stderr).toBe(0);
      const file = join(world.root, `shard-${s.replace('/', '-of-')}.json`);
      writeFileSync(file, r.stdout);
      return {
        file,
        paths: (JSON.parse(r.stdout) as { subject: { path: string } }[]).map((x) => x.subject.path),
      };
    });
    expect(shards.map((s) => s.paths.length)).toEqual([2, 1]);
    expect(shards.flatMap((s) => s.paths).sort()).toEqual([...diffs].sort());

    const merged = runCli(['merge', ...shards.map((s) => s.file)]);
    expect(merged.code, merged.stderr).toBe(0);
    const reports = JSON.parse(merged.stdout) as { subject: { path: string } }[];
    expect(reports.map((r) => r.subject.path)).toEqual([...diffs].sort());

    const sarif = JSON.parse(runCli(['merge', ...shards.map((s) => s.file), '--format', 'sarif']).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);

    const twice = runCli(['merge', shards[0].file, shards[0].file]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^dit-audit: .* is reported twice \(in .* and .*\)\n$/);
  }, 240_000);

  it('refuses a shard that is not I/N and a file that is not a report', () => {
    for (const bad of ['0/2', '3/2', '1/0', 'two/three']) {
      const r = runCli(['audit', world.diff, '--shard', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/not I\/N/);
    }
    const notReport = join(world.root, 'not-a-report.json');
    writeFileSync(notReport, '[{"hello": 1}]');
    const r = runCli(['merge', notReport]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dit-audit: .*not-a-report\.json \[0\]: not a dit-auditor report/);
  });
});
