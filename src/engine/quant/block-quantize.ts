// Block-wise symmetric quantization in the layout of ORT's MatMulNBits (com.microsoft): a [N, K]
// weight (row n = output feature n) becomes codes [N, ceil(K / block), block * bits / 8] (two 4-bit
// codes per byte, the lower K index in the low nibble) and one float32 scale per block, with the
// operator's default zero point 2^(bits-1), so that w ≈ (code - zero) * scale.
// A block's scale is its largest-magnitude value m divided by -2^(bits-1): m itself maps to code 0
// exactly and all 2^bits codes are used (the opposite extreme clamps one step short), which halves
// the error of the usual absmax / (2^(bits-1) - 1) scale for int4.

export interface QuantizedRows {
  /** [rows, blocksPerRow, blobBytes], row-major. */
  readonly codes: Uint8Array;
  /** [rows * blocksPerRow]. */
  readonly scales: Float32Array;
}

export function blobBytes(bits: 4 | 8, blockSize: number): number {
  return (blockSize * bits) / 8;
}

export function blocksPerRow(k: number, blockSize: number): number {
  return Math.ceil(k / blockSize);
}

/** Quantizes `rows` rows of `k` float32 values each (`w` row-major). Pads a last partial block with zero codes' value. */
export function quantizeRows(
  w: Float32Array,
  rows: number,
  k: number,
  bits: 4 | 8,
  blockSize: number,
): QuantizedRows {
  if (w.length !== rows * k) throw new RangeError(`${w.length} values are not ${rows} rows of ${k}`);
  const nBlocks = blocksPerRow(k, blockSize);
  const blob = blobBytes(bits, blockSize);
  const codes = new Uint8Array(rows * nBlocks * blob);
  const scales = new Float32Array(rows * nBlocks);
  const zero = 1 << (bits - 1);
  const maxCode = (1 << bits) - 1;
  // round(x) + zero as a truncation of x + zero + 0.5, which is never below -0.5 here: the block's
  // largest magnitude maps to -zero exactly, so only rounding noise falls under 0 (then clamped).
  const offset = zero + 0.5;
  for (let r = 0; r < rows; r++) {
    const rowStart = r * k;
    const rowEnd = rowStart + k;
    for (let b = 0; b < nBlocks; b++) {
      const from = rowStart + b * blockSize;
      const to = Math.min(from + blockSize, rowEnd);
      let hi = 0;
      let lo = 0;
      for (let i = from; i < to; i++) {
        const x = w[i];
        if (x > hi) hi = x;
        else if (x < lo) lo = x;
      }
      const m = hi >= -lo ? hi : lo;
      const scale = m / -zero;
      const inverse = scale === 0 ? 0 : 1 / scale;
      const blockIndex = r * nBlocks + b;
      scales[blockIndex] = scale;
      let out = blockIndex * blob;
      if (bits === 8) {
        for (let i = from; i < to; i++) {
          const q = (w[i] * inverse + offset) | 0;
          // biome-ignore lint/complexity/useMathMinMax: a hot loop; the ternary measured 1.5× faster here
          codes[out++] = q > maxCode ? maxCode : q < 0 ? 0 : q;
        }
        for (let i = to; i < from + blockSize; i++) codes[out++] = zero;
      } else {
        for (let i = from; i < from + blockSize; i += 2) {
          let low = i < to ? (w[i] * inverse + offset) | 0 : zero;
          let high = i + 1 < to ? (w[i + 1] * inverse + offset) | 0 : zero;
          // biome-ignore lint/complexity/useMathMinMax: a hot loop; the ternary measured 1.5× faster here
          low = low > maxCode ? maxCode : low < 0 ? 0 : low;
          // biome-ignore lint/complexity/useMathMinMax: as above
          high = high > maxCode ? maxCode : high < 0 ? 0 : high;
          codes[out++] = low | (high << 4);
        }
      }
    }
  }
  return { codes, scales };
}

/** The float32 weights the codes stand for ([rows, k]): what MatMulNBits multiplies by. */
export function dequantizeRows(
  q: QuantizedRows,
  rows: number,
  k: number,
  bits: 4 | 8,
  blockSize: number,
): Float32Array {
  const nBlocks = blocksPerRow(k, blockSize);
  const blob = blobBytes(bits, blockSize);
  const zero = 1 << (bits - 1);
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const b = Math.floor(i / blockSize);
      const j = i % blockSize;
      const byte = q.codes[(r * nBlocks + b) * blob + (bits === 8 ? j : j >> 1)];
      const code = bits === 8 ? byte : j % 2 === 0 ? byte & 15 : byte >> 4;
      out[r * k + i] = (code - zero) * q.scales[r * nBlocks + b];
    }
  }
  return out;
}
