// A stack of adapters written as one PEFT LoRA adapter: per module the A rows and B columns
// concatenated along the rank with each scale folded into B (lora-stack.ts, the form the engine's
// graph computes with), so `lora_alpha = r` and a server that serves single LoRA adapters (vLLM,
// `dit-audit serve`) computes exactly the stacked update. Modules of smaller combined rank are
// padded with zero rows and columns to one rank, since not every server reads `rank_pattern`.
// Modules are named as the base names its weights (`model.layers…`, Gemma-3's multimodal
// `language_model.model.layers…`), so a server that loads the base maps them as it maps its own.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { factorsByModule, stackFactors } from './lora-stack';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from './peft/files';
import { tensorNames } from './tensor-names';
import { InputError, type LoraAdapter } from './types';

export interface StackedAdapterOptions {
  /** `base_model_name_or_path` in the config. */
  readonly baseModel?: string;
  /** The base's weight prefix (ModelOptions.weightPrefix); default `model.`. */
  readonly weightPrefix?: string;
}

export interface WrittenAdapter {
  readonly dir: string;
  readonly rank: number;
  readonly modules: number;
}

export async function writeStackedPeftAdapter(
  dir: string,
  adapters: readonly LoraAdapter[],
  options: StackedAdapterOptions = {},
): Promise<WrittenAdapter> {
  const names = tensorNames(options.weightPrefix ?? 'model.');
  const byModule = [...factorsByModule(adapters).values()];
  if (byModule.length === 0) throw new InputError('there is no adapter to write');
  const rank = Math.max(...byModule.map((fs) => fs.reduce((n, f) => n + f.rank, 0)));
  const tensors: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const factors of byModule) {
    const { layer, module, inFeatures, outFeatures } = factors[0];
    if (factors.some((f) => f.inFeatures !== inFeatures || f.outFeatures !== outFeatures))
      throw new InputError(`the adapters disagree on the shape of layer ${layer} ${module}`);
    const stacked = stackFactors(factors, inFeatures, outFeatures);
    const A = new Float32Array(rank * inFeatures);
    A.set(stacked.A);
    const B = new Float32Array(outFeatures * rank);
    for (let row = 0; row < outFeatures; row++)
      B.set(stacked.B.subarray(row * stacked.rank, (row + 1) * stacked.rank), row * rank);
    const prefix = `base_model.model.${names.linear(layer, module).weight.replace(/\.weight$/, '')}`;
    tensors.push({ name: `${prefix}.lora_A.weight`, shape: [rank, inFeatures], data: A });
    tensors.push({ name: `${prefix}.lora_B.weight`, shape: [outFeatures, rank], data: B });
  }
  const modules = [...new Set(byModule.map((fs) => fs[0].module))];
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: options.baseModel ?? null,
    r: rank,
    lora_alpha: rank,
    lora_dropout: 0,
    target_modules: modules,
    bias: 'none',
    use_rslora: false,
    use_dora: false,
    fan_in_fan_out: false,
    inference_mode: true,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, ADAPTER_WEIGHTS), safetensorsF32(tensors));
  await writeFile(join(dir, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  return { dir, rank, modules: byModule.length };
}

/** The safetensors encoding of F32 tensors: a little-endian u64 header length, the JSON header padded to 8 bytes, the data. */
export function safetensorsF32(
  tensors: readonly { name: string; shape: number[]; data: Float32Array }[],
): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const body = Buffer.concat(
    tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
  );
  return Buffer.concat([head, Buffer.from(json), body]);
}
