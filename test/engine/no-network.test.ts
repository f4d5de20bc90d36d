// An audit tool must make no network call it was not asked to make (issue 12, point 7): a model
// session held past the point where onnxruntime's telemetry starts (about 10 s) opens no Internet
// connection, seen at the system-call level with strace. The control run, with telemetry allowed,
// shows the DNS query for ORT's upload host that the first run must not make. Skipped without strace.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers';
import { CLI, REPO } from './paths';
import { telemetryTestEnv } from './telemetry-env';

const HOLD_SECONDS = 22;
const hasStrace = spawnSync('strace', ['-V'], { encoding: 'utf8' }).status === 0;
const dir = tempDir('dit-no-network-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Internet-family connect/sendto calls of `dit-audit serve` held for HOLD_SECONDS. */
function networkCalls(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const log = join(dir, `${name}.strace`);
  const args = [
    ...['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg', '-s', '64', '-o', log, '--'],
    ...['timeout', '-s', 'TERM', String(HOLD_SECONDS), process.execPath, CLI, 'serve'],
    ...['--model', join(REPO, 'media', 'demo', 'base'), '--port', '0', '--quiet', '--provider', 'cpu'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('strace', args, { env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => {
      const lines = readFileSync(log, 'utf8').split('\n');
      resolve(lines.filter((l) => /sa_family=AF_INET6?\b/.test(l) || /\\6mobile\\6events/.test(l)));
    });
  });
}

describe.skipIf(!hasStrace)('no call home', () => {
  it(
    `a session held ${HOLD_SECONDS} s opens no Internet connection; with telemetry allowed it would`,
    async () => {
      const env = telemetryTestEnv();
      const [quiet, control] = await Promise.all([
        networkCalls('default', env),
        networkCalls('control', { ...env, ORT_DISABLE_TELEMETRY: '0' }),
      ]);
      expect(quiet).toEqual([]);
      expect(control.join('\n')).toMatch(/mobile\\6events|sin_port=htons\(53\)/);
    },
    (HOLD_SECONDS + 40) * 1000,
  );
});
