// onnxruntime's telemetry stays off (issue 12, point 7): a run writes nothing under the user's home
// (ORT would write ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid at the first session and
// go on to resolve its upload host). The control run, with telemetry explicitly allowed, shows the
// files do appear there when it is on, so the first assertion is not vacuous.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers';
import { CLI, TINY } from './paths';
import { telemetryTestEnv } from './telemetry-env';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function forwardWithHome(extra: Record<string, string>): { code: number | null; home: string } {
  const home = tempDir('dit-home-');
  homes.push(home);
  const env = telemetryTestEnv();
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'forward',
      '--model',
      join(TINY, 'llama-tiny'),
      '--ids',
      '1,2,3',
      '--steps',
      '2',
      '--provider',
      'cpu',
    ],
    { env: { ...env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), ...extra }, timeout: 60_000 },
  );
  return { code: r.status, home };
}

const DEVICE_ID = ['.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime', 'deviceid'];

describe('onnxruntime telemetry', () => {
  it('a forward pass leaves the home folder empty', () => {
    const { code, home } = forwardWithHome({});
    expect(code).toBe(0);
    expect(readdirSync(home)).toEqual([]);
  });

  it('(control) with telemetry allowed, ORT writes its device id under the home folder', () => {
    const { code, home } = forwardWithHome({ ORT_DISABLE_TELEMETRY: '0' });
    expect(code).toBe(0);
    expect(existsSync(join(home, ...DEVICE_ID))).toBe(true);
  });
});
