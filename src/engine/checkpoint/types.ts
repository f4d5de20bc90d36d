// Shared shapes of the checkpoint layer: what a reader hands to the graph builder and the runtime.

export type DType = 'F32' | 'F16' | 'BF16';

/** One tensor stored in a file: where its bytes are, never the bytes themselves. */
export interface TensorRef {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute path of the file holding the bytes. */
  readonly file: string;
  /** Absolute byte offset of the first byte inside `file`. */
  readonly offset: number;
  readonly byteLength: number;
}

/** The tensors of one checkpoint (a single safetensors file or a sharded set). */
export interface TensorSource {
  /** Absolute paths of the files behind the tensors. */
  readonly files: readonly string[];
  get(name: string): TensorRef | undefined;
  names(): string[];
  /** Reads one tensor and converts it to float32. */
  readFloat32(name: string): Promise<Float32Array>;
}

export const LINEAR_MODULES = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LinearModule = (typeof LINEAR_MODULES)[number];

export function isLinearModule(name: string): name is LinearModule {
  return (LINEAR_MODULES as readonly string[]).includes(name);
}

/** One low-rank update `delta W = scale * B @ A` of one linear module (W is [out, in]). */
export interface LoraFactor {
  readonly layer: number;
  readonly module: LinearModule;
  readonly rank: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [rank, in], row-major. */
  readonly A: Float32Array;
  /** [out, rank], row-major. */
  readonly B: Float32Array;
  readonly scale: number;
}

/** A weight diff or an interpreter adapter, in one normal form whatever file it came from. */
export interface LoraAdapter {
  /** Where it came from: a folder, a file, or `FILE#INDEX`. */
  readonly source: string;
  /** The base model it names, when the file says (PEFT `base_model_name_or_path`). */
  readonly baseModel?: string;
  readonly factors: readonly LoraFactor[];
  /** Free-form facts a file carries (a `.pt` diff's topic and trigger, say). */
  readonly metadata?: Readonly<Record<string, string | number>>;
}

/** An error with a one-line message meant for the user: bad input, not a bug. */
export class InputError extends Error {
  override readonly name = 'InputError';
}
