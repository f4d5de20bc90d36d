// What every block builder needs: the graph being built, the model's options, and access to
// base weights (external data, cast to float32 in the graph) and LoRA slot inputs.
import { realpathSync } from 'node:fs';
import type { LinearModule, TensorRef, TensorSource } from '../checkpoint/types';
import { InputError } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import type { ElemType, GraphBuilder } from './onnx-builder';
import { loraInputNames } from './slots';

const STORED_TYPE: Record<TensorRef['dtype'], ElemType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

export class BuildContext {
  private readonly weights = new Map<string, string>();
  /** External files the graph refers to: location in the graph → absolute path. */
  readonly externalFiles = new Map<string, string>();

  constructor(
    readonly g: GraphBuilder,
    readonly o: ModelOptions,
    private readonly tensors: TensorSource,
  ) {}

  /**
   * A float32 view of a checkpoint tensor, checked against the shape the family expects.
   * Half-precision tensors get a Cast that ORT folds at session creation.
   */
  weight(name: string, shape: readonly number[]): string {
    const cached = this.weights.get(name);
    if (cached) return cached;
    const ref = this.tensors.get(name);
    if (!ref) throw new InputError(`the checkpoint has no tensor ${name}`);
    if (ref.shape.length !== shape.length || ref.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(`tensor ${name} has shape [${ref.shape}], but config.json implies [${shape}]`);
    }
    const location = this.locationOf(ref.file);
    const stored = this.g.external(`${name}#stored`, {
      location,
      offset: ref.offset,
      length: ref.byteLength,
      type: STORED_TYPE[ref.dtype],
      shape: ref.shape,
    });
    const f32 =
      ref.dtype === 'F32' ? stored : this.g.op('Cast', `/weights/${name}/Cast`, [stored], { to: 1 });
    this.weights.set(name, f32);
    return f32;
  }

  /** The A/B inputs of one module's LoRA slot, declared on first use. */
  loraSlot(
    layer: number,
    module: LinearModule,
    inFeatures: number,
    outFeatures: number,
  ): { A: string; B: string } {
    const names = loraInputNames(layer, module);
    this.g.input(names.A, 'float32', [names.rank, inFeatures]);
    this.g.input(names.B, 'float32', [outFeatures, names.rank]);
    return names;
  }

  private locationOf(linked: string): string {
    // ORT refuses external data that resolves outside its folder, and a Hugging Face cache
    // snapshot is symlinks into ../../blobs: the graph points at the real files instead.
    const file = realpathSync(linked);
    for (const [location, path] of this.externalFiles) if (path === file) return location;
    const base = file.split(/[\\/]/).pop() ?? 'weights.safetensors';
    const location = this.externalFiles.has(base) ? `${this.externalFiles.size}-${base}` : base;
    this.externalFiles.set(location, file);
    return location;
  }
}
