// The paper's .pt artifacts run through the engine exactly like the same factors written as PEFT
// folders. The PEFT folders are made from the fixtures' expected tensors by renaming header keys
// (rank 1 transposes are byte-identical), so the check is independent of the .pt mapping code.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, type HeaderEntry, rewriteSafetensors, runCli, tempDir } from './helpers';
import { TINY, TORCH_PICKLE } from './paths';

const MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

function peftFrom(
  expected: string,
  prefix: string,
  r: number,
  toPeft: (role: string) => string,
  shape: (s: number[], role: string) => number[],
): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r, lora_alpha: 1, target_modules: MODULES, bias: 'none' }),
  );
  rewriteSafetensors(expected, join(dir, 'adapter_model.safetensors'), (h) => {
    const out: typeof h = {};
    for (const [key, value] of Object.entries(h)) {
      if (!key.startsWith(prefix) || key === '__metadata__') continue;
      const entry = value as HeaderEntry;
      const role = key.slice(-1);
      const module = key.slice(prefix.length, -2);
      out[`base_model.model.${module}.${toPeft(role)}.weight`] = {
        ...entry,
        shape: shape(entry.shape, role),
      };
    }
    return out;
  });
  return dir;
}

/** dit-audit forward on qwen3-tiny with `adapters` stacked on it. */
function runForward(adapters: string[], ids: string, ...options: string[]): CliResult {
  const args = ['forward', '--model', join(TINY, 'qwen3-tiny'), '--ids', ids, ...options];
  for (const a of adapters) args.push('--adapter', a);
  return runCli(args);
}

function forward(adapters: string[]): { logits: number[][]; tokens: number[] } {
  const r = runForward(adapters, '3,14,15,92,65', '--steps', '4', '--json');
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

describe('paper .pt artifacts through the engine', () => {
  const dit = peftFrom(
    join(TORCH_PICKLE, 'dit-adapter.expected.safetensors'),
    '',
    16,
    (role) => (role === 'B' ? 'lora_A' : 'lora_B'),
    (s) => s,
  );
  const diff0 = peftFrom(
    join(TORCH_PICKLE, 'weight-diff-000.expected.safetensors'),
    '0.',
    1,
    (role) => (role === 'B' ? 'lora_A' : 'lora_B'),
    (s) => [...s].reverse(),
  );

  it('a weight-diff entry stacked under the DIT-adapter equals the same factors as PEFT', () => {
    const fromPt = forward([
      join(TORCH_PICKLE, 'weight-diff-000.pt#0'),
      join(TORCH_PICKLE, 'dit-adapter.pt'),
    ]);
    const fromPeft = forward([diff0, dit]);
    const base = forward([]);
    expect(fromPt.tokens).toEqual(fromPeft.tokens);
    const worst = Math.max(
      ...fromPt.logits.flatMap((row, i) => row.map((v, j) => Math.abs(v - fromPeft.logits[i][j]))),
    );
    expect(worst).toBeLessThan(1e-5);
    expect(fromPt.logits[0]).not.toEqual(base.logits[0]);
  });

  it('asks for #INDEX on a list of several diffs, and refuses a hostile pickle by name', () => {
    const list = runForward([join(TORCH_PICKLE, 'weight-diff-000.pt')], '1');
    expect(list.code).toBe(2);
    expect(list.stderr).toMatch(/#/);
    const evil = runForward([join(TORCH_PICKLE, 'evil-system.pt')], '1');
    expect(evil.code).toBe(2);
    expect(evil.stderr.trim().split('\n')).toHaveLength(1);
    expect(evil.stderr).toMatch(/(os|posix)\.system/);
  });
});
