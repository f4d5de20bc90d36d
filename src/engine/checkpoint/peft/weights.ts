// The tensors of adapter_model.safetensors, paired into each module's lora_A and lora_B; any other
// tensor is refused with what it is for.

import { quoteName } from '../safetensors';
import {
  InputError,
  isLinearModule,
  LINEAR_MODULES,
  type LinearModule,
  type TensorRef,
  type TensorSource,
} from '../types';

export interface LoraPair {
  readonly layer: number;
  readonly module: LinearModule;
  /** The module's name in the base model, as PEFT matches it: `model.layers.0.self_attn.q_proj`. */
  readonly moduleName: string;
  A?: TensorRef;
  B?: TensorRef;
}

// base_model.model. + one of the decoder-layer prefixes (plain, and Gemma3's two multimodal
// layouts) + self_attn.{q,k,v,o}_proj | mlp.{gate,up,down}_proj + lora_A|lora_B [.default] .weight
const LORA_KEY =
  /^base_model\.model\.((?:model\.layers|language_model\.model\.layers|model\.language_model\.layers)\.(\d{1,6})\.(?:self_attn\.(q_proj|k_proj|v_proj|o_proj)|mlp\.(gate_proj|up_proj|down_proj)))\.lora_(A|B)(?:\.default)?\.weight$/;

export function pairTensors(source: TensorSource, dir: string): LoraPair[] {
  const pairs = new Map<string, LoraPair>();
  for (const key of source.names()) {
    const match = LORA_KEY.exec(key);
    if (!match) throw unrecognisedKey(key, dir);
    const [, moduleName, layerText, attn, mlp, side] = match;
    const module = attn ?? mlp;
    if (!isLinearModule(module)) throw unrecognisedKey(key, dir);
    const layer = Number(layerText);
    const id = `${layer}/${module}`;
    let pair = pairs.get(id);
    if (!pair) {
      pair = { layer, module, moduleName };
      pairs.set(id, pair);
    }
    const ref = source.get(key);
    if (side === 'A' ? pair.A : pair.B) {
      throw new InputError(`adapter ${dir} has two lora_${side} tensors for layer ${layer} ${module}`);
    }
    if (side === 'A') pair.A = ref;
    else pair.B = ref;
  }
  if (pairs.size === 0) throw new InputError(`adapter ${dir} holds no LoRA weights`);
  return [...pairs.values()].sort(
    (a, b) => a.layer - b.layer || LINEAR_MODULES.indexOf(a.module) - LINEAR_MODULES.indexOf(b.module),
  );
}

function unrecognisedKey(key: string, dir: string): InputError {
  const refuse = (what: string) =>
    new InputError(`adapter ${dir} ${what} (tensor ${quoteName(key)}), which dit-auditor does not support`);
  if (/lora_magnitude_vector/.test(key)) return refuse('uses DoRA');
  if (/lora_embedding_[AB]/.test(key)) return refuse('puts LoRA on the embeddings');
  if (/(^|\.)lm_head(\.|$)/.test(key)) return refuse('puts LoRA on lm_head');
  if (/(^|\.)embed_tokens(\.|$)/.test(key)) return refuse('puts LoRA on the embeddings (embed_tokens)');
  if (/\.lora_[AB](\.[^.]+)?\.bias$/.test(key)) return refuse('has LoRA biases');
  if (/\.bias$/.test(key)) return refuse('trains biases');
  return new InputError(
    `adapter ${dir} has tensor ${quoteName(key)}, which is not the LoRA A or B of ` +
      `${LINEAR_MODULES.join('/')} in a decoder layer; dit-auditor does not support it`,
  );
}
