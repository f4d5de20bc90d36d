// What every block builder needs: the graph being built, the model's options, the RoPE tables,
// and access to base weights (external data, cast to float32 in the graph) and LoRA slot inputs.
import { realpathSync } from 'node:fs';
import { type TensorNames, tensorNames } from '../checkpoint/tensor-names';
import type { LinearModule, TensorRef, TensorSource } from '../checkpoint/types';
import { InputError } from '../checkpoint/types';
import type { ModelOptions } from '../config/model-options';
import type { NBitsRef, QuantizedWeights } from '../quant/quantized-weights';
import type { AttentionKernel } from './attention-kernel';
import type { ElemType, GraphBuilder } from './onnx-builder';
import { GRAPH_INPUTS, loraInputNames } from './slots';

const STORED_TYPE: Record<TensorRef['dtype'], ElemType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

/**
 * A linear layer's weight as the graph multiplies by it: [out, in] in float32 (`dense`) or float16
 * (`half`), or MatMulNBits' codes and scales.
 */
export type Projection =
  | { readonly kind: 'dense'; readonly weight: string }
  | { readonly kind: 'half'; readonly weight: string }
  | {
      readonly kind: 'nbits';
      readonly codes: string;
      readonly scales: string;
      readonly ref: NBitsRef;
    };

export interface RopeCache {
  readonly cos: string;
  readonly sin: string;
}

/** How the linear weights (and the LM head) enter the graph; every other weight is float32. */
export interface LinearWeightForm {
  /** int8/int4: linear weights from this copy, and every other tensor from its stored copy. */
  readonly quantized?: QuantizedWeights;
  /** f16: linear weights in float16 (as stored, or cast once at session creation). */
  readonly half?: boolean;
}

/** What a layer's attention sees of its kind: its RoPE tables and window (null: all tokens). */
export interface LayerSpan {
  readonly layer: number;
  readonly rope: RopeCache;
  readonly window: number | null;
}

export class BuildContext<O extends ModelOptions = ModelOptions> {
  private readonly weights = new Map<string, string>();
  private readonly shapes = new Map<string, string>();
  /** External files the graph refers to: location in the graph → absolute path. */
  readonly externalFiles = new Map<string, string>();
  readonly names: TensorNames;

  constructor(
    readonly g: GraphBuilder,
    readonly o: O,
    private tensors: TensorSource,
    private readonly ropes: { readonly full: RopeCache; readonly sliding: RopeCache },
    /** How attention is built (attention-kernel.ts). */
    readonly attention: AttentionKernel = 'gqa',
    private readonly form: LinearWeightForm = {},
  ) {
    this.names = tensorNames(o.weightPrefix);
    if (form.quantized) this.tensors = form.quantized.stored;
  }

  span(layer: number): LayerSpan {
    const sliding = this.o.layerKinds[layer] === 'sliding';
    return {
      layer,
      rope: sliding ? this.ropes.sliding : this.ropes.full,
      window: sliding ? this.o.slidingWindow : null,
    };
  }

  /**
   * A float32 view of a checkpoint tensor, checked against the shape the family expects.
   * Half-precision tensors get a Cast that ORT folds at session creation.
   */
  weight(name: string, shape: readonly number[]): string {
    const cached = this.weights.get(name);
    if (cached) return cached;
    const { stored, dtype } = this.storedWeight(name, shape);
    const f32 = dtype === 'F32' ? stored : this.g.op('Cast', `/weights/${name}/Cast`, [stored], { to: 1 });
    this.weights.set(name, f32);
    return f32;
  }

  /** A checkpoint tensor as stored (no Cast), checked against the shape the family expects. */
  private storedWeight(
    name: string,
    shape: readonly number[],
  ): { stored: string; dtype: TensorRef['dtype'] } {
    const ref = this.tensors.get(name);
    if (!ref) throw new InputError(`the checkpoint has no tensor ${name}`);
    if (ref.shape.length !== shape.length || ref.shape.some((d, i) => d !== shape[i])) {
      throw new InputError(`tensor ${name} has shape [${ref.shape}], but config.json implies [${shape}]`);
    }
    const initializer = `${name}#stored`;
    if (!this.weights.has(initializer)) {
      this.g.external(initializer, {
        location: this.locationOf(ref.file),
        offset: ref.offset,
        length: ref.byteLength,
        type: STORED_TYPE[ref.dtype],
        shape: ref.shape,
      });
      this.weights.set(initializer, initializer);
    }
    return { stored: initializer, dtype: ref.dtype };
  }

  /**
   * A float16 view of a checkpoint tensor: as stored when it is float16, else behind a Cast that
   * ORT folds at session creation (the provider then holds float16 only).
   */
  private halfWeight(name: string, shape: readonly number[]): string {
    const key = `${name}#f16`;
    const cached = this.weights.get(key);
    if (cached) return cached;
    const { stored, dtype } = this.storedWeight(name, shape);
    const f16 =
      dtype === 'F16' ? stored : this.g.op('Cast', `/weights/${name}/CastF16`, [stored], { to: 10 });
    this.weights.set(key, f16);
    return f16;
  }

  /** The weight a linear layer multiplies by, [out, in]: quantized or float16 where this build says so, else float32. */
  projection(name: string, shape: readonly [number, number]): Projection {
    if (this.form.half) return { kind: 'half', weight: this.halfWeight(name, shape) };
    const ref = this.form.quantized?.nbits(name);
    if (!ref) return { kind: 'dense', weight: this.weight(name, shape) };
    if (ref.n !== shape[0] || ref.k !== shape[1]) {
      throw new InputError(
        `tensor ${name} has shape [${ref.n},${ref.k}], but config.json implies [${shape}]`,
      );
    }
    const key = `${name}#nbits`;
    const location = this.locationOf(this.form.quantized?.file ?? '');
    const blocks = Math.ceil(ref.k / ref.blockSize);
    if (!this.weights.has(key)) {
      this.g.external(`${name}#codes`, {
        location,
        offset: ref.codes.offset,
        length: ref.codes.length,
        type: 'uint8',
        shape: [ref.n, blocks, (ref.blockSize * ref.bits) / 8],
      });
      this.g.external(`${name}#scales`, {
        location,
        offset: ref.scales.offset,
        length: ref.scales.length,
        type: 'float32',
        shape: [ref.n * blocks],
      });
      this.weights.set(key, key);
    }
    return { kind: 'nbits', codes: `${name}#codes`, scales: `${name}#scales`, ref };
  }

  /**
   * [batch * seq, width] → [batch, seq, width], the layout GroupQueryAttention and RotaryEmbedding
   * want. Hidden states stay 2-D everywhere else, so every projection is one Gemm.
   */
  toBatch(path: string, x: string, width: number): string {
    const key = `batch-shape:${width}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      shape = this.g.op(
        'Concat',
        `/model/batch_shape_${width}/Concat`,
        [this.batchDim(), this.g.int64([-1, width])],
        {
          axis: 0,
        },
      );
      this.shapes.set(key, shape);
    }
    return this.g.op('Reshape', `${path}/ToBatch`, [x, shape]);
  }

  /** A subgraph every layer shares (masks, indices), made by `make` on first use. */
  shared(key: string, make: () => string): string {
    const memo = `shared:${key}`;
    let name = this.shapes.get(memo);
    if (!name) {
      name = make();
      this.shapes.set(memo, name);
    }
    return name;
  }

  /** [batch] of the inputs' shape, as a 1-D int64 tensor. */
  batchDim(): string {
    const cached = this.shapes.get('batch-dim');
    if (cached) return cached;
    const dim = this.g.op('Shape', '/model/batch_dim/Shape', [GRAPH_INPUTS.inputsEmbeds], {
      start: 0,
      end: 1,
    });
    this.shapes.set('batch-dim', dim);
    return dim;
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
