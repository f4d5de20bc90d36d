// Regression: numbers that are not numbers (issue 12, points 5 and 6). NaN weights, a lora_alpha
// that overflows float32, a zero RoPE factor: each is named for what it is, in one line, instead
// of "argmax over logits that are all NaN" or an abort inside onnxruntime.

import { copyFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAdapter } from '../../src/engine/checkpoint/load-adapter';
import { InputError } from '../../src/engine/checkpoint/types';
import { freshDirs, runCli } from './helpers';
import { TINY } from './paths';

const fresh = freshDirs('dit-hostile-numbers-');

const LLAMA = join(TINY, 'llama-tiny');
const R1 = join(TINY, 'llama-tiny-lora-r1');

/** A copy of a safetensors folder with the first float32 of `tensor` set to `value`. */
function withValue(from: string, file: string, tensor: string, value: number): string {
  const dir = fresh();
  cpSync(from, dir, { recursive: true });
  const bytes = readFileSync(join(dir, file));
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  bytes.writeFloatLE(value, 8 + n + header[tensor].data_offsets[0]);
  writeFileSync(join(dir, file), bytes);
  return dir;
}

function adapterConfig(patch: Record<string, unknown>, from = R1): string {
  const dir = fresh();
  copyFileSync(join(from, 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
  const config = JSON.parse(readFileSync(join(from, 'adapter_config.json'), 'utf8'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, ...patch }));
  return dir;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as Error).message).not.toContain('\n');
  return (error as Error).message;
}

function expectOneLine(r: ReturnType<typeof runCli>, message: RegExp): void {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^dit-audit: /);
  expect(lines[0]).toMatch(message);
}

describe('numbers that are not numbers', () => {
  it('refuses an adapter whose lora_alpha overflows float32, or whose weights hold NaN', async () => {
    expect(await refusal(loadAdapter({ path: adapterConfig({ lora_alpha: 1e308 }) }))).toMatch(
      /layer 0 q_proj has a LoRA scale of 1e\+308, not a finite float32/,
    );
    const key = 'base_model.model.model.layers.1.mlp.down_proj.lora_B.weight';
    const large = withValue(R1, 'adapter_model.safetensors', key, 10);
    expect(await refusal(loadAdapter({ path: adapterConfig({ lora_alpha: 1e38 }, large) }))).toMatch(
      /layer 1 down_proj: its LoRA scale 1e\+38 \(lora_alpha \/ r\) times lora_B overflows float32/,
    );
    expect(
      await refusal(loadAdapter({ path: withValue(R1, 'adapter_model.safetensors', key, Number.NaN) })),
    ).toMatch(/layer 1 down_proj: lora_B holds NaN or infinite values/);
  });

  it('`forward` over NaN base weights says the logits are NaN and why', () => {
    const model = withValue(LLAMA, 'model.safetensors', 'model.norm.weight', Number.NaN);
    const r = runCli(['forward', '--model', model, '--ids', '1,2,3', '--provider', 'cpu', '--json'], 60_000);
    expectOneLine(r, /computed NaN logits: its weights or an adapter's hold NaN or infinite values/);
  });

  it('`forward` with a llama3 rope_scaling factor of 0 is refused at load', () => {
    const model = fresh();
    copyFileSync(join(LLAMA, 'model.safetensors'), join(model, 'model.safetensors'));
    const config = JSON.parse(readFileSync(join(LLAMA, 'config.json'), 'utf8'));
    config.rope_scaling.factor = 0;
    writeFileSync(join(model, 'config.json'), JSON.stringify(config));
    const r = runCli(['forward', '--model', model, '--ids', '1,2,3', '--provider', 'cpu', '--json'], 60_000);
    expectOneLine(r, /config\.json rope_scaling factor is 0, not a number above zero/);
  });
});
