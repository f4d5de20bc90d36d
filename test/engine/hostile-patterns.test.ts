// Regression: adapter-config regexes that make a backtracking engine spin for minutes
// (issue 12, point 1) load in milliseconds now that patterns are matched by RE2.

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPeftAdapter } from '../../src/engine/checkpoint/peft';
import { InputError } from '../../src/engine/checkpoint/types';
import { tempDir } from './helpers';
import { TINY } from './paths';

const R1 = join(TINY, 'qwen3-tiny-lora-r1');
const HOSTILE = ['(.|.)*x', '(.|.|.)*Z', '(.|.){0,40}Z', '((.){1,30}){1,30}Z', '(a|aa)*$', '(\\w+\\.?)*!'];

const root = tempDir('dit-hostile-re-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

function adapterWith(patch: Record<string, unknown>): string {
  const dir = join(root, String(count++));
  mkdirSync(dir);
  cpSync(R1, dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, ...patch }));
  return dir;
}

const FIELDS: [string, (p: string) => Record<string, unknown>][] = [
  ['target_modules', (p) => ({ target_modules: p })],
  ['exclude_modules', (p) => ({ exclude_modules: p })],
  ['a rank_pattern key', (p) => ({ rank_pattern: { [p]: 2 } })],
  ['an alpha_pattern key', (p) => ({ alpha_pattern: { [p]: 2 } })],
];

describe('hostile regexes in adapter_config.json', () => {
  for (const [field, patch] of FIELDS) {
    it.each(HOSTILE)(`${field} %s is decided in well under a second`, async (pattern) => {
      const started = performance.now();
      const outcome = await loadPeftAdapter(adapterWith(patch(pattern))).then(
        () => 'loaded',
        (e: unknown) => e,
      );
      expect(performance.now() - started).toBeLessThan(1000);
      if (outcome !== 'loaded') {
        expect(outcome).toBeInstanceOf(InputError);
        expect((outcome as Error).message).not.toContain('\n');
      }
    });
  }

  it('still matches as PEFT does: a target regex selects by full match', async () => {
    const adapter = await loadPeftAdapter(
      adapterWith({ target_modules: '.*\\.(q|k|v|o|gate|up|down)_proj' }),
    );
    expect(adapter.factors).toHaveLength(14);
    await expect(loadPeftAdapter(adapterWith({ target_modules: '(.|.)*q_proj' }))).rejects.toThrow(
      /which its target_modules\/layers_to_transform do not select/,
    );
  });
});
