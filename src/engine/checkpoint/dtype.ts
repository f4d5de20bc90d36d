// Raw little-endian tensor bytes to float32.

import type { DType } from './types';

export const DTYPES: readonly DType[] = ['F32', 'F16', 'BF16'];

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { F32: 4, F16: 2, BF16: 2 };

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 bit pattern of one IEEE half: exact, subnormals, infinities and NaN included. */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: shift the mantissa up until its leading 1 becomes implicit.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;

function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Converts `bytes` (little-endian values of `dtype`) to a new Float32Array. */
export function toFloat32(dtype: DType, bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} values`);
  }
  const count = bytes.byteLength / size;
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  if (dtype === 'F32') {
    if (HOST_IS_LITTLE_ENDIAN) {
      new Uint8Array(out.buffer).set(bytes);
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
    }
    return out;
  }
  const halves = readUint16LE(bytes, count);
  if (dtype === 'BF16') {
    for (let i = 0; i < count; i++) outBits[i] = halves[i] << 16;
  } else {
    const table = f16ToF32Table();
    for (let i = 0; i < count; i++) outBits[i] = table[halves[i]];
  }
  return out;
}

function readUint16LE(bytes: Uint8Array, count: number): Uint16Array {
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  }
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}
