// Every case of ../shared/fixtures/tiny through the code the CLI uses: prefill rows and each
// KV-cache decode row within 1e-4 of the float64 reference, greedy tokens exact. Then llama-tiny's
// cases again, its weights under a Mistral config.json.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import type { TensorSource } from '../../src/engine/checkpoint/types';
import { forwardTrace } from '../../src/engine/forward';
import { Engine, type ModelHandle } from '../../src/engine/runtime/engine';
import { FIXTURE_CASES, type FixtureCase, relativeError } from './fixture-cases';
import { tempDir } from './helpers';
import { TINY } from './paths';

const cases = FIXTURE_CASES;
const byCheckpoint = new Map<string, FixtureCase[]>();
for (const c of cases) byCheckpoint.set(c.checkpoint, [...(byCheckpoint.get(c.checkpoint) ?? []), c]);
const provider = (process.env.DIT_EP as 'cuda' | 'webgpu' | 'cpu' | undefined) ?? 'cpu';

let engine: Engine;
let expected: TensorSource;

beforeAll(async () => {
  engine = new Engine();
  expected = await openSafetensorsFile(join(TINY, 'expected_logits.safetensors'));
});
afterAll(() => engine.terminate());

it('covers all 48 reference cases', () => {
  expect(cases).toHaveLength(48);
});

function checkpointCases(title: string, dir: () => string, group: readonly FixtureCase[]): void {
  describe(title, () => {
    let model: ModelHandle;
    beforeAll(async () => {
      model = await engine.open(dir(), { provider, maxPositions: 64, precision: 'f32' });
      expect(model.info.provider.provider).toBe(provider);
    });

    for (const c of group) {
      it(c.key, async () => {
        await model.setAdapters(c.adapters.map((a) => ({ path: join(TINY, a) })));
        const trace = await forwardTrace(model, c.input_ids, 8);
        expect(trace.tokens).toEqual(c.greedy_next_8);
        const ref = await expected.readFloat32(c.key);
        const vocab = model.info.options.vocabSize;
        expect(trace.logits).toHaveLength(c.input_ids.length + 8);
        const worst = Math.max(
          ...trace.logits.map((row, i) => relativeError(row, ref.subarray(i * vocab, (i + 1) * vocab))),
        );
        expect(worst).toBeLessThan(1e-4);
      });
    }
  });
}

for (const [checkpoint, group] of byCheckpoint)
  checkpointCases(checkpoint, () => join(TINY, checkpoint), group);

/**
 * llama-tiny's weights under the config.json transformers writes for a MistralForCausalLM of that
 * shape. Mistral is Llama without biases, so llama-tiny's cases must come out the same; a window
 * wider than every row (prompt + 8 steps) must change nothing either.
 */
function llamaAsMistral(slidingWindow: number | null): string {
  const dir = tempDir();
  const { attention_bias: _none, ...llama } = JSON.parse(
    readFileSync(join(TINY, 'llama-tiny/config.json'), 'utf8'),
  );
  const mistral = {
    ...llama,
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    head_dim: 8,
    sliding_window: slidingWindow,
    attention_dropout: 0,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(mistral));
  copyFileSync(join(TINY, 'llama-tiny/model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}

const llamaCases = byCheckpoint.get('llama-tiny') ?? [];
checkpointCases('llama-tiny as mistral', () => llamaAsMistral(null), llamaCases);
checkpointCases('llama-tiny as mistral, sliding_window 64', () => llamaAsMistral(64), llamaCases);
