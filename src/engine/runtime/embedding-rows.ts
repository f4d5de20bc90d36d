// The embedding table stays in its checkpoint file: each run reads the rows of its tokens (one
// positioned read each, from the page cache after the first time) and feeds them to the graph as
// float32 (graph/blocks.ts `embed`). Held by ORT, the table was mapped from the file, and the
// kernel maps whole folios of it around each row gathered: on Qwen3-0.6B int4 a 2048-token prompt
// of random tokens made 0.3 GB of it resident (all of its 0.31 GB of bf16), for rows that are
// 4 MB of float32 (bench/engine.ts). Read here, none of it counts in the process's memory.
import { readSync } from 'node:fs';
import { DTYPE_BYTES, toFloat32 } from '../checkpoint/dtype';
import { openRegularFile, type RegularFile } from '../checkpoint/regular-file';
import { tensorNames } from '../checkpoint/tensor-names';
import { InputError, type TensorRef, type TensorSource } from '../checkpoint/types';
import { checkSizesAgainstWeights } from '../config/check-weights';
import type { ModelOptions } from '../config/model-options';

export class EmbeddingRows {
  private readonly rowBytes: number;

  private constructor(
    private readonly ref: TensorRef,
    private readonly file: RegularFile,
    private readonly hidden: number,
  ) {
    this.rowBytes = hidden * DTYPE_BYTES[ref.dtype];
  }

  static async open(o: ModelOptions, tensors: TensorSource): Promise<EmbeddingRows> {
    const name = tensorNames(o.weightPrefix).embed;
    const ref = tensors.get(name);
    if (!ref) throw new InputError(`the checkpoint has no tensor ${name}`);
    // The rows' offsets follow from the shape config.json implies.
    checkSizesAgainstWeights(o, (n) => tensors.get(n));
    const file = await openRegularFile(ref.file);
    if (file.size < ref.offset + ref.byteLength) {
      await file.handle.close();
      throw new InputError(`${ref.file} ends before tensor ${name} does`);
    }
    return new EmbeddingRows(ref, file, o.hiddenSize);
  }

  /** The rows of `ids` (checked against the vocabulary by the caller), float32 [ids.length, hidden]. */
  rows(ids: ArrayLike<number>): Float32Array {
    const bytes = new Uint8Array(ids.length * this.rowBytes);
    for (let i = 0; i < ids.length; i++) this.readRows(bytes, i, ids[i], 1);
    return toFloat32(this.ref.dtype, bytes);
  }

  /** Rows `from` to `from + count - 1` in one read, float32 [count, hidden] (the caller keeps them in the vocabulary). */
  range(from: number, count: number): Float32Array {
    const bytes = new Uint8Array(count * this.rowBytes);
    this.readRows(bytes, 0, from, count);
    return toFloat32(this.ref.dtype, bytes);
  }

  /** Reads `count` rows from token `token` on into `bytes` at row `at`, or says the file changed. */
  private readRows(bytes: Uint8Array, at: number, token: number, count: number): void {
    const length = count * this.rowBytes;
    const position = this.ref.offset + token * this.rowBytes;
    if (readSync(this.file.handle.fd, bytes, at * this.rowBytes, length, position) !== length) {
      throw new InputError(
        `${this.ref.file} changed while the model was open: the embedding of token ${token} is cut short`,
      );
    }
  }

  get width(): number {
    return this.hidden;
  }

  async close(): Promise<void> {
    await this.file.handle.close();
  }
}
