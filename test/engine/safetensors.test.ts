import { mkdir, mkdtemp, open, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpointTensors, openTensorFile } from '../../src/engine/checkpoint/checkpoint-files';
import { f16BitsToF32Bits, toFloat32 } from '../../src/engine/checkpoint/dtype';
import { openSafetensorsFile, readTensorsFloat32 } from '../../src/engine/checkpoint/safetensors';
import { InputError, type TensorRef } from '../../src/engine/checkpoint/types';
import { safetensorsBytes } from './helpers';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/tiny');
const QWEN3 = path.join(FIXTURES, 'qwen3-tiny');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dit-safetensors-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
async function writeTemp(bytes: Uint8Array, name = `t${counter++}.safetensors`): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, bytes);
  return file;
}

async function expectInputError(promise: Promise<unknown>, pattern: RegExp): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  const message = (error as InputError).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
  return error as InputError;
}

/** Independent references: arithmetic instead of bit tricks. */
function f16Reference(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function bf16Reference(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  const scratch = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < out.length; i++) {
    scratch.setUint32(0, view.getUint16(2 * i, true) << 16);
    out[i] = scratch.getFloat32(0);
  }
  return out;
}

async function rawBytes(file: string, offset: number, length: number): Promise<Uint8Array> {
  return new Uint8Array((await readFile(file)).subarray(offset, offset + length));
}

const TENSOR = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

describe('dtype conversion', () => {
  it('converts every f16 bit pattern exactly, subnormals, infinities and NaN included', () => {
    const bytes = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      bytes[2 * h] = h & 0xff;
      bytes[2 * h + 1] = h >> 8;
    }
    const out = toFloat32('F16', bytes);
    for (let h = 0; h < 65536; h++) {
      const want = f16Reference(h);
      if (Number.isNaN(want)) expect(Number.isNaN(out[h])).toBe(true);
      else if (out[h] !== want || Object.is(out[h], -0) !== Object.is(want, -0)) {
        expect.fail(`f16 0x${h.toString(16)}: got ${out[h]}, want ${want}`);
      }
    }
    expect(out[0x0001]).toBe(2 ** -24);
    expect(out[0x03ff]).toBe(1023 * 2 ** -24);
    expect(out[0x3c00]).toBe(1);
    expect(out[0x7bff]).toBe(65504);
    expect(out[0x7c00]).toBe(Number.POSITIVE_INFINITY);
    expect(out[0xfc00]).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(out[0x8000], -0)).toBe(true);
    expect(f16BitsToF32Bits(0x7e00) >>> 0).toBe(0x7fc00000);
  });

  it('converts bf16 as the upper half of f32, and f32 as is, from unaligned bytes too', () => {
    const f32 = new Float32Array([1.5, -2.25, 3e38, -0, Number.POSITIVE_INFINITY, 1e-40]);
    const bits = new Uint32Array(f32.buffer);
    const bf16 = new Uint8Array(1 + f32.length * 2).subarray(1);
    bits.forEach((b, i) => {
      bf16[2 * i] = (b >>> 16) & 0xff;
      bf16[2 * i + 1] = b >>> 24;
    });
    expect([...toFloat32('BF16', bf16)]).toEqual([...bf16Reference(bf16)]);
    expect(toFloat32('BF16', bf16)[0]).toBe(1.5);
    const unaligned = new Uint8Array(1 + f32.byteLength).subarray(1);
    unaligned.set(new Uint8Array(f32.buffer));
    expect([...toFloat32('F32', unaligned)]).toEqual([...f32]);
    expect(() => toFloat32('F32', new Uint8Array(3))).toThrow(RangeError);
  });
});

describe('openSafetensorsFile on the fixtures', () => {
  it('reads bf16 tensors of a qwen3-tiny shard exactly as a reference conversion', async () => {
    const file = path.join(QWEN3, 'model-00001-of-00002.safetensors');
    const source = await openSafetensorsFile(file);
    expect(source.files).toEqual([file]);
    expect(source.metadata).toBeTypeOf('object');
    const ref = source.get('model.layers.0.self_attn.q_proj.weight');
    expect(ref?.dtype).toBe('BF16');
    expect(ref?.file).toBe(file);
    for (const name of source.names()) {
      const r = source.get(name);
      if (!r) throw new Error('missing ref');
      const values = await source.readFloat32(name);
      expect(values.length).toBe(r.shape.reduce((a, b) => a * b, 1));
      expect([...values]).toEqual([...bf16Reference(await rawBytes(file, r.offset, r.byteLength))]);
    }
  });

  it('gives absolute offsets (8 + header length + begin) and reads f16', async () => {
    const file = path.join(FIXTURES, 'qwen2-tiny', 'model.safetensors');
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    const source = await openSafetensorsFile(file);
    const name = 'model.layers.0.mlp.down_proj.weight';
    const ref = source.get(name);
    expect(ref).toMatchObject({ dtype: 'F16', shape: [32, 80], byteLength: 32 * 80 * 2 });
    expect(ref?.offset).toBe(8 + headerLength + header[name].data_offsets[0]);
    const values = await source.readFloat32(name);
    const raw = bytes.subarray(ref?.offset, (ref?.offset ?? 0) + (ref?.byteLength ?? 0));
    for (let i = 0; i < values.length; i++) expect(values[i]).toBe(f16Reference(raw.readUInt16LE(2 * i)));
    expect(source.names().length).toBe(Object.keys(header).filter((k) => k !== '__metadata__').length);
  });

  it('reads f32 tensors bit for bit', async () => {
    const file = path.join(FIXTURES, 'expected_logits.safetensors');
    const source = await openSafetensorsFile(file);
    const name = source.names()[0];
    const ref = source.get(name);
    if (!ref) throw new Error('missing ref');
    const raw = await rawBytes(file, ref.offset, ref.byteLength);
    expect([...(await source.readFloat32(name))]).toEqual([...new Float32Array(raw.buffer)]);
  });

  it('reads only the header: opening a sparse 5 GB file is instant, and big offsets read right', async () => {
    const big = 5 * 2 ** 30;
    const header = {
      __metadata__: { format: 'pt' },
      huge: { dtype: 'F32', shape: [big / 4 - 2], data_offsets: [0, big - 8] },
      tail: { dtype: 'BF16', shape: [4], data_offsets: [big - 8, big] },
    };
    const head = safetensorsBytes(header);
    const file = await writeTemp(head);
    await truncate(file, head.length + big);
    const handle = await open(file, 'r+');
    await handle.write(new Uint8Array([0x80, 0x3f, 0, 0xc0, 0, 0, 0, 0]), 0, 8, head.length + big - 8);
    await handle.close();
    const started = Date.now();
    const source = await openSafetensorsFile(file);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(source.metadata).toEqual({ format: 'pt' });
    expect(source.get('tail')?.offset).toBe(head.length + big - 8);
    expect([...(await source.readFloat32('tail'))]).toEqual([1, -2, 0, 0]);
    await rm(file);
  });
});

describe('readTensorsFloat32', () => {
  const bits = (values: Float32Array) => [
    ...new Uint32Array(values.buffer, values.byteOffset, values.length),
  ];

  it('reads many tensors of several files in one pass, in the order asked, bit for bit as one by one', async () => {
    const source = await openCheckpointTensors(QWEN3);
    expect(source.files.length).toBe(2);
    // Every other tensor, last first: gaps between them, and both shards interleaved.
    const names = source
      .names()
      .filter((_, i) => i % 2 === 0)
      .reverse();
    const refs = names.map((n) => source.get(n) as TensorRef);
    expect(new Set(refs.map((r) => r.file)).size).toBe(2);
    const values = await readTensorsFloat32(refs);
    expect(values).toHaveLength(names.length);
    for (const [i, name] of names.entries())
      expect(bits(values[i])).toEqual(bits(await source.readFloat32(name)));
  });

  it('says which tensors it was reading when the file ended early', async () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    };
    const bytes = safetensorsBytes(header, new Uint8Array(16));
    const file = await writeTemp(bytes);
    const source = await openSafetensorsFile(file);
    const refs = ['a', 'b'].map((n) => source.get(n) as TensorRef);
    expect((await readTensorsFloat32(refs)).map((v) => [...v])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    await truncate(file, bytes.length - 4);
    await expectInputError(
      readTensorsFloat32(refs),
      /file ended at byte \d+ while reading tensors "a" to "b"/,
    );
  });
});

describe('openSafetensorsFile refuses hostile files', () => {
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /0 bytes, too short/],
    ['a file shorter than 8 bytes', () => new Uint8Array([1, 0, 0, 0, 0]), /5 bytes, too short/],
    [
      'a header length past the end of the file',
      () => safetensorsBytes({ a: TENSOR }, new Uint8Array(8)).subarray(0, 20),
      /header length \d+ bytes runs past the end of the file \(20 bytes\)/,
    ],
    [
      'an absurd header length',
      () => {
        const b = safetensorsBytes({});
        b.writeBigUInt64LE(2n ** 63n);
        return b;
      },
      /absurd/,
    ],
    ['a header that is not JSON', () => safetensorsBytes('{"a": '), /not valid JSON/],
    [
      'a header that is not UTF-8',
      () => safetensorsBytes(new Uint8Array([0x7b, 0xff, 0x7d])),
      /not valid UTF-8/,
    ],
    ['a header that is an array', () => safetensorsBytes([TENSOR]), /not a JSON object/],
    ['a header that is null', () => safetensorsBytes('null'), /not a JSON object/],
    ['an entry that is not an object', () => safetensorsBytes({ a: 3 }), /tensor "a" is not an object/],
    [
      'an unknown dtype',
      () => safetensorsBytes({ a: { ...TENSOR, dtype: 'I64', shape: [1] } }, new Uint8Array(8)),
      /tensor "a" has dtype "I64", which dit-auditor does not support \(only F32, F16, BF16\)/,
    ],
    ['a missing dtype', () => safetensorsBytes({ a: { shape: [2], data_offsets: [0, 8] } }), /no dtype/],
    [
      'a negative dimension',
      () => safetensorsBytes({ a: { ...TENSOR, shape: [-2] } }, new Uint8Array(8)),
      /shape that is not an array of non-negative integers/,
    ],
    [
      'a fractional dimension',
      () => safetensorsBytes({ a: { ...TENSOR, shape: [1.5] } }, new Uint8Array(8)),
      /shape that is not an array/,
    ],
    ['a shape that is not an array', () => safetensorsBytes({ a: { ...TENSOR, shape: 2 } }), /shape/],
    [
      'data_offsets with begin > end',
      () => safetensorsBytes({ a: { ...TENSOR, data_offsets: [8, 0] } }, new Uint8Array(8)),
      /data_offsets that are not \[begin, end\]/,
    ],
    [
      'data_offsets of the wrong length',
      () => safetensorsBytes({ a: { ...TENSOR, data_offsets: [0] } }, new Uint8Array(8)),
      /data_offsets/,
    ],
    [
      'data_offsets that are strings',
      () => safetensorsBytes({ a: { ...TENSOR, data_offsets: ['0', '8'] } }, new Uint8Array(8)),
      /data_offsets/,
    ],
    [
      'offsets beyond the data section',
      () => safetensorsBytes({ a: { ...TENSOR, data_offsets: [4, 12] } }, new Uint8Array(8)),
      /tensor "a" ends at byte 12 of the data section, which holds only 8 bytes/,
    ],
    [
      'a byte size that does not match the shape',
      () => safetensorsBytes({ a: { ...TENSOR, shape: [3] } }, new Uint8Array(8)),
      /tensor "a" has 8 bytes but F32 of shape \[3\] needs 12/,
    ],
    [
      'an absurdly large shape',
      () => safetensorsBytes({ a: { ...TENSOR, shape: [2 ** 40, 2 ** 40] } }, new Uint8Array(8)),
      /absurdly large shape/,
    ],
    [
      'overlapping tensors',
      () =>
        safetensorsBytes(
          { a: TENSOR, b: { dtype: 'F16', shape: [4], data_offsets: [4, 12] } },
          new Uint8Array(12),
        ),
      /tensors "a" \(bytes 0-8\) and "b" \(bytes 4-12\) overlap/,
    ],
    [
      'a __metadata__ value that is not a string',
      () => safetensorsBytes({ __metadata__: { n: 1 } }),
      /__metadata__ entry "n" is not a string/,
    ],
    [
      'a tensor name with a newline (kept on one line)',
      () => safetensorsBytes({ 'x\ny': { ...TENSOR, dtype: 'U8' } }, new Uint8Array(8)),
      /tensor "x\\ny" has dtype "U8"/,
    ],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      const file = await writeTemp(bytes());
      const error = await expectInputError(openSafetensorsFile(file), pattern);
      expect(error.message.startsWith(`${file}: `)).toBe(true);
    });
  }

  it('accepts a valid hand-made file: metadata, zero-size tensors, trailing header spaces', async () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const header = `${JSON.stringify({
      __metadata__: { format: 'pt' },
      empty: { dtype: 'F16', shape: [0, 5], data_offsets: [4, 4] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [2, 1], data_offsets: [4, 12] },
    })}    `;
    const source = await openSafetensorsFile(await writeTemp(safetensorsBytes(header, data)));
    expect(source.names()).toEqual(['empty', 'a', 'b']);
    expect([...(await source.readFloat32('b'))]).toEqual([2, 3]);
    expect((await source.readFloat32('empty')).length).toBe(0);
    expect(source.metadata).toEqual({ format: 'pt' });
  });

  it('refuses a missing file, a folder, an unknown tensor name, and a file truncated after opening', async () => {
    await expectInputError(openSafetensorsFile(path.join(tmp, 'nope.safetensors')), /no such file/);
    await expectInputError(openSafetensorsFile(tmp), /not a regular file|folder/);
    const bytes = safetensorsBytes({ a: TENSOR }, new Uint8Array(8));
    const file = await writeTemp(bytes);
    const source = await openSafetensorsFile(file);
    await expectInputError(source.readFloat32('b'), /no tensor named "b"/);
    await truncate(file, bytes.length - 4);
    await expectInputError(source.readFloat32('a'), /file ended at byte \d+ while reading tensor "a"/);
  });
});

describe('openCheckpointTensors', () => {
  it('merges the two shards of qwen3-tiny through model.safetensors.index.json', async () => {
    const source = await openCheckpointTensors(QWEN3);
    const index = JSON.parse(await readFile(path.join(QWEN3, 'model.safetensors.index.json'), 'utf8'));
    const weightMap: Record<string, string> = index.weight_map;
    expect(source.names().sort()).toEqual(Object.keys(weightMap).sort());
    expect([...source.files].sort()).toEqual([
      path.join(QWEN3, 'model-00001-of-00002.safetensors'),
      path.join(QWEN3, 'model-00002-of-00002.safetensors'),
    ]);
    const shards = new Map<string, Awaited<ReturnType<typeof openSafetensorsFile>>>();
    for (const shard of new Set(Object.values(weightMap))) {
      shards.set(shard, await openSafetensorsFile(path.join(QWEN3, shard)));
    }
    for (const [name, shard] of Object.entries(weightMap)) {
      expect(source.get(name)?.file).toBe(path.join(QWEN3, shard));
      expect(source.get(name)).toEqual(shards.get(shard)?.get(name));
    }
    const name = 'model.norm.weight';
    expect([...(await source.readFloat32(name))]).toEqual([
      ...((await shards.get(weightMap[name])?.readFloat32(name)) ?? []),
    ]);
  });

  it('opens model.safetensors, or the single *.safetensors of a folder (through a symlink, as in the HF cache)', async () => {
    const llama = await openCheckpointTensors(path.join(FIXTURES, 'llama-tiny'));
    expect(llama.files).toEqual([path.join(FIXTURES, 'llama-tiny', 'model.safetensors')]);
    expect(llama.names()).toContain('lm_head.weight');
    const dir = path.join(tmp, 'single');
    await mkdir(dir);
    await symlink(
      path.join(FIXTURES, 'qwen2-tiny', 'model.safetensors'),
      path.join(dir, 'weights.safetensors'),
    );
    const single = await openCheckpointTensors(dir);
    expect(single.names().length).toBe(
      (await openTensorFile(path.join(FIXTURES, 'qwen2-tiny', 'model.safetensors'))).names().length,
    );
    expect(single.files).toEqual([path.join(dir, 'weights.safetensors')]);
  });

  it('says which shard is missing', async () => {
    const dir = path.join(tmp, 'missing-shard');
    await mkdir(dir);
    await symlink(
      path.join(QWEN3, 'model.safetensors.index.json'),
      path.join(dir, 'model.safetensors.index.json'),
    );
    await symlink(
      path.join(QWEN3, 'model-00001-of-00002.safetensors'),
      path.join(dir, 'model-00001-of-00002.safetensors'),
    );
    await expectInputError(
      openCheckpointTensors(dir),
      /shard model-00002-of-00002\.safetensors listed in model\.safetensors\.index\.json is missing/,
    );
  });

  it('refuses an index that maps a tensor to the wrong shard, or points outside the folder', async () => {
    const index = JSON.parse(await readFile(path.join(QWEN3, 'model.safetensors.index.json'), 'utf8'));
    const dir = path.join(tmp, 'wrong-shard');
    await mkdir(dir);
    for (const shard of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) {
      await symlink(path.join(QWEN3, shard), path.join(dir, shard));
    }
    index.weight_map['model.norm.weight'] = 'model-00001-of-00002.safetensors';
    await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await expectInputError(
      openCheckpointTensors(dir),
      /maps tensor "model\.norm\.weight" to model-00001-of-00002\.safetensors, which does not contain it/,
    );
    index.weight_map['model.norm.weight'] = '../model-00002-of-00002.safetensors';
    await writeFile(path.join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await expectInputError(openCheckpointTensors(dir), /is not a file inside/);
    await writeFile(path.join(dir, 'model.safetensors.index.json'), '{"weight_map": 3}');
    await expectInputError(openCheckpointTensors(dir), /has no weight_map object/);
    await writeFile(path.join(dir, 'model.safetensors.index.json'), '{');
    await expectInputError(openCheckpointTensors(dir), /not valid JSON/);
  });

  it('refuses folders with no weights, with several unindexed files, or that do not exist', async () => {
    const empty = path.join(tmp, 'empty');
    await mkdir(empty);
    await writeFile(path.join(empty, 'pytorch_model.bin'), 'x');
    await expectInputError(
      openCheckpointTensors(empty),
      new RegExp(`no safetensors weights were found in ${empty}`),
    );
    const several = path.join(tmp, 'several');
    await mkdir(several);
    await writeFile(path.join(several, 'a.safetensors'), safetensorsBytes({}));
    await writeFile(path.join(several, 'b.safetensors'), safetensorsBytes({}));
    await expectInputError(
      openCheckpointTensors(several),
      /several \.safetensors files \(a\.safetensors, b\.safetensors\)/,
    );
    await expectInputError(openCheckpointTensors(path.join(tmp, 'nowhere')), /no such folder/);
  });
});
