// The sizes config.json states, held against the weights the checkpoint has, before anything is
// built or allocated from them: a config that claims more layers, heads or width than its weights
// is refused here with what each side says.
import { tensorNames } from '../checkpoint/tensor-names';
import { InputError, LINEAR_MODULES, type TensorRef } from '../checkpoint/types';
import { linearShape } from '../graph/slots';
import type { ModelOptions } from './model-options';

export function checkSizesAgainstWeights(
  o: ModelOptions,
  get: (name: string) => TensorRef | undefined,
): void {
  const names = tensorNames(o.weightPrefix);
  const expect = (name: string, want: readonly number[], fields: string) => {
    const ref = get(name);
    if (!ref) return; // a missing tensor is named when the graph asks for it
    if (ref.shape.length !== want.length || ref.shape.some((d, i) => d !== want[i])) {
      throw new InputError(
        `config.json is inconsistent with the weights: ${fields} imply [${want.join(', ')}] for ${name}, which is [${ref.shape.join(', ')}]`,
      );
    }
  };
  expect(names.embed, [o.vocabSize, o.hiddenSize], 'vocab_size and hidden_size');
  const stored = storedLayers(o.numLayers, (i) => get(names.linear(i, 'q_proj').weight) !== undefined);
  if (stored !== o.numLayers) {
    throw new InputError(
      `config.json num_hidden_layers is ${o.numLayers}, but the weights hold ${stored > o.numLayers ? 'more layers than that' : `only ${stored}`}`,
    );
  }
  for (let layer = 0; layer < o.numLayers; layer++) {
    for (const module of LINEAR_MODULES) {
      const { inFeatures, outFeatures } = linearShape(o, module);
      expect(
        names.linear(layer, module).weight,
        [outFeatures, inFeatures],
        'hidden_size, intermediate_size, num_attention_heads, num_key_value_heads and head_dim',
      );
    }
  }
}

/** How many consecutive layers from 0 have weights, looking one past `numLayers` at most. */
function storedLayers(numLayers: number, has: (layer: number) => boolean): number {
  let n = 0;
  while (n <= numLayers && has(n)) n++;
  return n;
}
