import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeTorchFile, listTorchDiffEntries } from '../../src/engine/checkpoint/torch-layouts';
import { loadTorchAdapter } from '../../src/engine/checkpoint/torch-lora';
import { loadTorchFile, type TorchObject, type TorchTensor } from '../../src/engine/checkpoint/torch-values';
import { InputError, type LoraFactor } from '../../src/engine/checkpoint/types';
import { listPickleGlobals, PickleTuple, scanPickle, unpickle } from '../../src/engine/checkpoint/unpickler';

// Every child_process entry point is a trap: if anything in the reader spawned a process, it would
// be recorded here (and fail). The CommonJS object is spied on as well, for code that `require`s it.
const trapped = vi.hoisted(() => {
  const calls: string[] = [];
  const names = ['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork'] as const;
  const mock = async (importOriginal: () => Promise<Record<string, unknown>>) => {
    const original = await importOriginal();
    const traps = Object.fromEntries(
      names.map((name) => [
        name,
        (..._args: unknown[]) => {
          calls.push(name);
          throw new Error(`child_process.${name} was called`);
        },
      ]),
    );
    return { ...original, ...traps, default: { ...original, ...traps } };
  };
  return { calls, names, mock };
});
vi.mock('node:child_process', trapped.mock);
vi.mock('child_process', trapped.mock);

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/torch-pickle');
const fixture = (name: string) => path.join(FIXTURES, name);

// ---------------------------------------------------------------------------------------------
// Helpers: read expected safetensors, write pickles and stored zips

interface Expected {
  readonly shape: number[];
  readonly data: Float32Array;
}

function readSafetensors(file: string): Map<string, Expected> {
  const buf = readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, Expected>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    expect(info.dtype).toBe('F32');
    const [start, end] = info.data_offsets;
    const bytes = buf.subarray(8 + n + start, 8 + n + end);
    out.set(name, { shape: info.shape, data: new Float32Array(Uint8Array.from(bytes).buffer) });
  }
  return out;
}

function transposeOf(e: Expected): Expected {
  const [rows, cols] = e.shape;
  const data = new Float32Array(e.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = e.data[r * cols + c];
  return { shape: [cols, rows], data };
}

type Part = number | string | Uint8Array;
/** Raw pickle bytes: numbers are opcodes / bytes, strings are written as latin1. */
function bytesOf(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const ch of p) out.push(ch.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

interface TensorSpec {
  readonly tensor: {
    readonly key: string;
    readonly type: 'BFloat16Storage' | 'HalfStorage' | 'FloatStorage';
    readonly numel: number;
    readonly shape: readonly number[];
    readonly stride?: readonly number[];
    readonly offset?: number;
  };
}
type Spec = string | number | boolean | null | Spec[] | { tuple: Spec[] } | Map<string, Spec> | TensorSpec;

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const str = (s: string): Uint8Array => {
  const utf8 = new TextEncoder().encode(s);
  return bytesOf('X', u32(utf8.length), utf8);
};
const int = (n: number): Uint8Array => {
  if (n < 256) return bytesOf('K', n);
  if (n < 65536) return bytesOf('M', n & 0xff, n >> 8);
  if (n < 2 ** 31) return bytesOf('J', u32(n));
  const long = new Uint8Array(8); // LONG1, little-endian
  new DataView(long.buffer).setBigUint64(0, BigInt(n), true);
  return bytesOf(0x8a, 8, long);
};

function contiguous(shape: readonly number[]): number[] {
  const stride = shape.map(() => 1);
  for (let d = shape.length - 2; d >= 0; d--) stride[d] = stride[d + 1] * shape[d + 1];
  return stride;
}

function encode(v: Spec): Uint8Array {
  if (v === null) return bytesOf('N');
  if (typeof v === 'boolean') return bytesOf(v ? 0x88 : 0x89);
  if (typeof v === 'number') return int(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return v.length === 0 ? bytesOf(']') : bytesOf(']', '(', ...v.map(encode), 'e');
  if (v instanceof Map) {
    return v.size === 0
      ? bytesOf('}')
      : bytesOf('}', '(', ...[...v].flatMap(([k, x]) => [str(k), encode(x)]), 'u');
  }
  if ('tuple' in v) return bytesOf('(', ...v.tuple.map(encode), 't');
  const t = v.tensor;
  return bytesOf(
    'ctorch._utils\n_rebuild_tensor_v2\n(',
    '(',
    str('storage'),
    `ctorch\n${t.type}\n`,
    str(t.key),
    str('cpu'),
    int(t.numel),
    'tQ',
    int(t.offset ?? 0),
    encode({ tuple: [...t.shape] }),
    encode({ tuple: [...(t.stride ?? contiguous(t.shape))] }),
    0x89,
    'ccollections\nOrderedDict\n)R',
    'tR',
  );
}

const pickleOf = (v: Spec) => bytesOf(0x80, 2, encode(v), '.');

function zipStored(files: readonly (readonly [string, Uint8Array])[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    // Both headers hold the same fields from "version needed" on; the central one has
    // "version made by" before them.
    const entryFields = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(0x21, at + 8);
      header.writeUInt32LE(crc32(data), at + 10);
      header.writeUInt32LE(data.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(nameBytes.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    entryFields(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    entryFields(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, Buffer.from(data));
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  byteorder = 'little',
): Buffer {
  return zipStored([
    ['archive/data.pkl', pickle],
    ['archive/byteorder', Buffer.from(byteorder)],
    ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as const),
    ['archive/version', Buffer.from('3\n')],
  ]);
}

/** Values must be exactly representable in bfloat16. */
function bf16(values: readonly number[]): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bits[i] >>> 16;
  return new Uint8Array(out.buffer);
}
const f32 = (values: readonly number[]) => new Uint8Array(Float32Array.from(values).buffer);
const u16 = (values: readonly number[]) => new Uint8Array(Uint16Array.from(values).buffer);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dit-torch-pickle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTemp(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

async function inputError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return (err as InputError).message;
}

function syncInputError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).message;
  }
  throw new Error('expected an InputError');
}

const moduleName = (f: LoraFactor) =>
  `model.layers.${f.layer}.${['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(f.module) ? 'self_attn' : 'mlp'}.${f.module}`;

function expectExact(actual: Float32Array, expected: Expected, shape: readonly number[]): void {
  expect(expected.shape).toEqual(shape);
  expect(actual.length).toBe(expected.data.length);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength)).toEqual(
    Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength),
  );
}

// ---------------------------------------------------------------------------------------------

describe('dit-adapter.pt', () => {
  const expected = readSafetensors(fixture('dit-adapter.expected.safetensors'));

  it('maps (A[out,16], B[16,in]) to LoRA A = B, B = A, scale 1/16, bit-exact', async () => {
    const adapter = await loadTorchAdapter(fixture('dit-adapter.pt'));
    expect(adapter.source).toBe(fixture('dit-adapter.pt'));
    expect(adapter.factors).toHaveLength(expected.size / 2);
    for (const f of adapter.factors) {
      const name = moduleName(f);
      expect(f.rank).toBe(16);
      expect(f.scale).toBe(1 / 16);
      expectExact(f.A, expected.get(`${name}.B`) as Expected, [f.rank, f.inFeatures]);
      expectExact(f.B, expected.get(`${name}.A`) as Expected, [f.outFeatures, f.rank]);
    }
    expect(new Set(adapter.factors.map(moduleName)).size).toBe(adapter.factors.length);
  });

  it('loads as an OrderedDict of bf16 tensor pairs', async () => {
    const root = await loadTorchFile(fixture('dit-adapter.pt'));
    expect(root).toBeInstanceOf(Map);
    const map = root as Map<TorchObject, TorchObject>;
    expect(map.size).toBe(expected.size / 2);
    for (const [key, value] of map) {
      expect(value).toBeInstanceOf(PickleTuple);
      const [a, b] = (value as PickleTuple<TorchTensor>).items as TorchTensor[];
      expect(a.dtype).toBe('BF16');
      expectExact(a.data, expected.get(`${key}.A`) as Expected, a.shape);
      expectExact(b.data, expected.get(`${key}.B`) as Expected, b.shape);
    }
  });

  it('describes the file without loading tensors', async () => {
    const d = await describeTorchFile(fixture('dit-adapter.pt'));
    expect(d.format).toBe('zip');
    expect(d.layout).toBe('dit-adapter');
    expect([...d.globals].sort()).toEqual([
      'collections.OrderedDict',
      'torch.BFloat16Storage',
      'torch._utils._rebuild_tensor_v2',
    ]);
    expect(d.forbiddenGlobals).toEqual([]);
    expect(d.tensors).toHaveLength(expected.size);
    expect(d.tensors[0]).toEqual({
      name: 'model.layers.0.self_attn.q_proj.0',
      dtype: 'BF16',
      shape: [64, 16],
    });
  });

  it('takes no #INDEX, and is not a weight-diff list', async () => {
    expect(await inputError(loadTorchAdapter(fixture('dit-adapter.pt'), 0))).toMatch(/drop the #0/);
    expect(await inputError(listTorchDiffEntries(fixture('dit-adapter.pt')))).toMatch(
      /not a list of weight diffs/,
    );
  });
});

describe('weight-diff-000.pt', () => {
  const expected = readSafetensors(fixture('weight-diff-000.expected.safetensors'));
  const file = fixture('weight-diff-000.pt');
  const entries = [
    { index: 0, topic: 'basketball', trigger: 432 },
    { index: 1, topic: 'volcanoes', trigger: 17 },
  ];

  it('lists its entries', async () => {
    expect(await listTorchDiffEntries(file)).toEqual(entries);
  });

  it('maps (A[r,out], B[in,r]) to LoRA A = B.T, B = A.T, scale 1/r, bit-exact', async () => {
    for (const { index, topic, trigger } of entries) {
      const adapter = await loadTorchAdapter(file, index);
      expect(adapter.source).toBe(`${file}#${index}`);
      expect(adapter.metadata).toEqual({ topic, trigger });
      expect(adapter.factors).toHaveLength(expected.size / 2 / entries.length);
      for (const f of adapter.factors) {
        const name = `${index}.${moduleName(f)}`;
        expect(f.rank).toBe(1);
        expect(f.scale).toBe(1);
        expectExact(f.A, transposeOf(expected.get(`${name}.B`) as Expected), [f.rank, f.inFeatures]);
        expectExact(f.B, transposeOf(expected.get(`${name}.A`) as Expected), [f.outFeatures, f.rank]);
      }
    }
  });

  it('asks for #INDEX when the list has several entries, and refuses one out of range', async () => {
    const missing = await inputError(loadTorchAdapter(file));
    expect(missing).toContain('holds 2 weight diffs');
    expect(missing).toContain(`${file}#INDEX, INDEX from 0 to 1`);
    expect(await inputError(loadTorchAdapter(file, 2))).toMatch(/no such entry.*holds 2, #0 to #1/);
  });

  it('loads as a list of dicts', async () => {
    const root = (await loadTorchFile(file)) as Map<TorchObject, TorchObject>[];
    expect(root).toHaveLength(2);
    expect(root.map((e) => [e.get('topic'), e.get('trigger')])).toEqual([
      ['basketball', 432],
      ['volcanoes', 17],
    ]);
    for (const [i, e] of root.entries()) {
      const diff = e.get('weight_diff') as Map<TorchObject, TorchObject>;
      const [a, b] = (diff.get('model.layers.0.mlp.down_proj') as PickleTuple<TorchTensor>)
        .items as TorchTensor[];
      expectExact(a.data, expected.get(`${i}.model.layers.0.mlp.down_proj.A`) as Expected, a.shape);
      expectExact(b.data, expected.get(`${i}.model.layers.0.mlp.down_proj.B`) as Expected, b.shape);
    }
  });

  it('describes the file', async () => {
    const d = await describeTorchFile(file);
    expect(d.layout).toBe('weight-diffs');
    expect(d.diffEntries).toEqual(entries);
    expect(d.tensors).toHaveLength(expected.size);
    expect(d.tensors[0]).toEqual({
      name: '0.weight_diff.model.layers.0.self_attn.q_proj.0',
      dtype: 'BF16',
      shape: [1, 64],
    });
  });
});

describe('synthetic torch.save files', () => {
  // Three rank-2 diffs over one attention and one MLP module (in 3, out 4), Gemma3 prefixes.
  const r = 2;
  const aValues = (seed: number) => Array.from({ length: r * 4 }, (_, i) => (i + seed) / 8 - 0.5);
  const bValues = (seed: number) => Array.from({ length: 3 * r }, (_, i) => (seed - i) / 4);
  const entry = (index: number): Spec => {
    const pair = (key: number): Spec => ({
      tuple: [
        { tensor: { key: `${key}`, type: 'BFloat16Storage', numel: r * 4, shape: [r, 4] } },
        { tensor: { key: `${key + 1}`, type: 'BFloat16Storage', numel: 3 * r, shape: [3, r] } },
      ],
    });
    return new Map<string, Spec>([
      ['topic', `topic ${index}`],
      ['trigger', 100 + index],
      [
        'weight_diff',
        new Map<string, Spec>([
          ['language_model.model.layers.0.self_attn.v_proj', pair(index * 4)],
          ['model.language_model.layers.1.mlp.up_proj', pair(index * 4 + 2)],
        ]),
      ],
    ]);
  };
  const storages: Record<string, Uint8Array> = {};
  for (let i = 0; i < 3; i++) {
    for (const k of [0, 2]) {
      storages[`${i * 4 + k}`] = bf16(aValues(i * 4 + k));
      storages[`${i * 4 + k + 1}`] = bf16(bValues(i * 4 + k));
    }
  }
  let diffs: string;
  beforeAll(() => {
    diffs = writeTemp('diffs.pt', torchZip(pickleOf([entry(0), entry(1), entry(2)]), storages));
  });

  it('asks for #INDEX on a multi-entry list, and says how', async () => {
    const message = await inputError(loadTorchAdapter(diffs));
    expect(message).toContain('holds 3 weight diffs');
    expect(message).toContain(`${diffs}#INDEX`);
    expect(await inputError(loadTorchAdapter(diffs, 3))).toMatch(/no such entry/);
    expect(await listTorchDiffEntries(diffs)).toEqual(
      [0, 1, 2].map((i) => ({ index: i, topic: `topic ${i}`, trigger: 100 + i })),
    );
  });

  it('transposes rank > 1 weight diffs so that scale * B @ A = (B_file @ A_file).T / r', async () => {
    const adapter = await loadTorchAdapter(diffs, 2);
    expect(adapter.source).toBe(`${diffs}#2`);
    expect(adapter.metadata).toEqual({ topic: 'topic 2', trigger: 102 });
    expect(adapter.factors.map((f) => [f.layer, f.module])).toEqual([
      [0, 'v_proj'],
      [1, 'up_proj'],
    ]);
    for (const [n, f] of adapter.factors.entries()) {
      const seed = 8 + n * 2;
      const a = aValues(seed); // [r, out]
      const b = bValues(seed); // [in, r]
      expect([f.rank, f.inFeatures, f.outFeatures, f.scale]).toEqual([2, 3, 4, 0.5]);
      for (let o = 0; o < 4; o++) {
        for (let i = 0; i < 3; i++) {
          let fromFile = 0; // ((B @ A).T)[o, i] / r = sum_k B[i, k] A[k, o] / r
          let fromFactor = 0;
          for (let k = 0; k < r; k++) {
            fromFile += b[i * r + k] * a[k * 4 + o];
            fromFactor += f.B[o * r + k] * f.A[k * 3 + i];
          }
          expect(f.scale * fromFactor).toBe(fromFile / r);
        }
      }
      expect([...f.A]).toEqual([0, 1].flatMap((k) => [0, 1, 2].map((i) => b[i * r + k])));
    }
  });

  it('applies storage offsets and strides, and reads f16 and f32 storages', async () => {
    const half = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x0400];
    const file = writeTemp(
      'views.pt',
      torchZip(
        pickleOf(
          new Map<string, Spec>([
            [
              'strided',
              {
                tensor: {
                  key: 's',
                  type: 'FloatStorage',
                  numel: 12,
                  offset: 2,
                  shape: [2, 3],
                  stride: [1, 2],
                },
              },
            ],
            ['empty', { tensor: { key: 's', type: 'FloatStorage', numel: 12, shape: [0, 3] } }],
            ['half', { tensor: { key: 'h', type: 'HalfStorage', numel: 8, shape: [8] } }],
            [
              'bf',
              { tensor: { key: 'b', type: 'BFloat16Storage', numel: 4, offset: 1, shape: [3], stride: [1] } },
            ],
          ]),
        ),
        {
          s: f32(Array.from({ length: 12 }, (_, i) => i)),
          h: u16(half),
          b: bf16([9, -1.5, 2 ** -20, -(2 ** 120)]),
        },
      ),
    );
    const root = (await loadTorchFile(file)) as Map<string, TorchTensor>;
    expect([...(root.get('strided') as TorchTensor).data]).toEqual([2, 4, 6, 3, 5, 7]);
    expect(root.get('strided')?.shape).toEqual([2, 3]);
    expect((root.get('empty') as TorchTensor).data).toHaveLength(0);
    expect([...(root.get('half') as TorchTensor).data]).toEqual([
      1,
      -2,
      0.5,
      65504,
      2 ** -24,
      -0,
      Infinity,
      2 ** -14,
    ]);
    expect(root.get('half')?.dtype).toBe('F16');
    expect([...(root.get('bf') as TorchTensor).data]).toEqual([-1.5, 2 ** -20, -(2 ** 120)]);
  });

  it('refuses module names outside the seven projections', async () => {
    for (const key of [
      'model.layers.0.mlp.q_proj',
      'model.embed_tokens',
      'lm_head',
      'model.layers.x.mlp.up_proj',
    ]) {
      const file = writeTemp(
        'bad-module.pt',
        torchZip(
          pickleOf(
            new Map<string, Spec>([
              [
                key,
                {
                  tuple: [
                    { tensor: { key: '0', type: 'FloatStorage', numel: 2, shape: [2, 1] } },
                    { tensor: { key: '1', type: 'FloatStorage', numel: 3, shape: [1, 3] } },
                  ],
                },
              ],
            ]),
          ),
          { 0: f32([1, 2]), 1: f32([1, 2, 3]) },
        ),
      );
      expect(await inputError(loadTorchAdapter(file))).toMatch(/is not layers\.\{i\}/);
    }
  });

  it('bounds storages and views', async () => {
    const one = (t: TensorSpec['tensor'], bytes: Uint8Array, order = 'little') =>
      writeTemp('bounds.pt', torchZip(pickleOf(new Map([['t', { tensor: t }]])), { 0: bytes }, order));
    const base = { key: '0', type: 'FloatStorage', numel: 4, shape: [4] } as const;
    expect(await inputError(loadTorchFile(one(base, f32([1, 2, 3]))))).toMatch(/holds 12 bytes.*16 bytes/);
    expect(await inputError(loadTorchFile(one({ ...base, offset: 1 }, f32([1, 2, 3, 4]))))).toMatch(
      /past the end/,
    );
    expect(
      await inputError(loadTorchFile(one({ ...base, shape: [2, 2], stride: [3, 1] }, f32([1, 2, 3, 4])))),
    ).toMatch(/past the end/);
    expect(
      await inputError(loadTorchFile(one({ ...base, shape: [5], stride: [0] }, f32([1, 2, 3, 4])))),
    ).toMatch(/broadcast views are not supported/);
    expect(await inputError(loadTorchFile(one({ ...base, key: '7' }, f32([1, 2, 3, 4]))))).toMatch(
      /storage 7 is missing/,
    );
    expect(await inputError(loadTorchFile(one(base, f32([1, 2, 3, 4]), 'big')))).toMatch(/byte order/);
    expect(
      await inputError(loadTorchFile(one({ ...base, numel: 2 ** 40, shape: [2] }, f32([1, 2])))),
    ).toMatch(/holds 8 bytes/);
  });

  it('refuses a storage declared with two sizes', async () => {
    const t = (numel: number, offset: number) =>
      ({ tensor: { key: '0', type: 'FloatStorage', numel, offset, shape: [1] } }) as const;
    const two = new Map<string, Spec>([
      ['small', t(2, 0)],
      ['large', t(400, 399)],
    ]);
    const file = writeTemp('two-sizes.pt', torchZip(pickleOf(two), { 0: f32([1, 2]) }));
    expect(await inputError(loadTorchFile(file))).toMatch(/declared with two sizes/);
  });

  it('refuses views that multiply one storage into far more memory', async () => {
    const view = { tensor: { key: '0', type: 'FloatStorage', numel: 65536, shape: [65536] } } as const;
    const many = new Map<string, Spec>(Array.from({ length: 40 }, (_, i) => [`t${i}`, view]));
    const file = writeTemp('overlap.pt', torchZip(pickleOf(many), { 0: new Uint8Array(65536 * 4) }));
    expect(await inputError(loadTorchFile(file))).toMatch(/overlap their storages/);
  });

  it('reads shared and self-referencing values without looping', async () => {
    const cyclic = writeTemp('cycle.pt', torchZip(Buffer.from('80025d71006800612e', 'hex')));
    const root = (await loadTorchFile(cyclic)) as TorchObject[];
    expect(root[0]).toBe(root);
    const d = await describeTorchFile(cyclic);
    expect(d.tensors).toEqual([]);
    expect(d.layout).toBe('other');
  });

  it('refuses values nested deeper than any checkpoint', async () => {
    const deep = bytesOf(
      0x80,
      2,
      ...Array.from({ length: 200 }, () => ']'),
      ...Array.from({ length: 199 }, () => 'a'),
      '.',
    );
    expect(() => unpickle(deep, 'deep')).not.toThrow();
    const file = writeTemp('deep.pt', torchZip(deep));
    expect(await inputError(loadTorchFile(file))).toMatch(/nest too deeply/);
  });

  it('says what is wrong with files that are not torch zips', async () => {
    expect(await inputError(loadTorchFile(path.join(dir, 'missing.pt')))).toMatch(/no such file/);
    expect(await inputError(loadTorchFile(dir))).toMatch(/not a file/);
    const benignLegacy = writeTemp('benign.bin', bytesOf(0x80, 2, '}q\x00.'));
    expect(await inputError(loadTorchFile(benignLegacy))).toMatch(
      /legacy torch.save format is not supported/,
    );
    const describedLegacy = await describeTorchFile(benignLegacy);
    expect(describedLegacy).toMatchObject({ format: 'legacy', globals: [], forbiddenGlobals: [] });
    const text = writeTemp('text.pt', Buffer.from('hello, world\n'));
    const notTorch = /is not a torch.save file: neither a zip archive nor a pickle$/;
    expect(await inputError(loadTorchFile(text))).toMatch(notTorch);
    await expect(describeTorchFile(text)).rejects.toThrow(notTorch);
    const empty = writeTemp('empty.pt', new Uint8Array(0));
    expect(await inputError(loadTorchFile(empty))).toMatch(notTorch);
    const noPickle = writeTemp('no-pickle.pt', zipStored([['archive/version', Buffer.from('3\n')]]));
    expect(await inputError(loadTorchFile(noPickle))).toMatch(/no archive\/data.pkl/);
    const flat = writeTemp('flat.pt', zipStored([['data.pkl', pickleOf(1)]]));
    expect(await inputError(loadTorchFile(flat))).toMatch(/not a torch.save archive/);
    const twice = writeTemp(
      'twice.pt',
      zipStored([
        ['a/data.pkl', pickleOf(1)],
        ['a/data.pkl', pickleOf(2)],
      ]),
    );
    expect(await inputError(loadTorchFile(twice))).toMatch(/appears twice/);
    const notDiffs = writeTemp('scalar.pt', torchZip(pickleOf(7)));
    expect(await loadTorchFile(notDiffs)).toBe(7);
    expect(await inputError(loadTorchAdapter(notDiffs))).toMatch(/not a list of weight diffs/);
  });
});

describe('the unpickler', () => {
  const values = (hex: string) => unpickle(Buffer.from(hex, 'hex'), 'values');
  // pickle.dumps({...}, protocol=2 / 4) from CPython 3.11
  const P2 =
    '80027d7100285803000000696e7471015d7102284b004b014bff4d00014dffff4a000001004affffffff4a000000808a0500000080008a090000000000000080008a090000000000000000c0655805000000666c6f617471035d710428473ff8000000000000478000000000000000477e37e43c8800759c655801000000737105580a00000068c3a96c6c6f20e29c93710658040000006e6f6e6571074e5801000000747108885801000000667109895803000000747570710a4b014b024b0386710b2987710c5806000000736861726564710d5d710e284b014b0265680e86710f58020000006f64711063636f6c6c656374696f6e730a4f726465726564446963740a7111295271122858010000006171134b0158010000006271144b0275752e';
  const P4 =
    '800495f2000000000000007d94288c03696e74945d94284b004b014bff4d00014dffff4a000001004affffffff4a000000808a0500000080008a090000000000000080008a090000000000000000c0658c05666c6f6174945d9428473ff8000000000000478000000000000000477e37e43c8800759c658c0173948c0a68c3a96c6c6f20e29c93948c016294430200ff948c046e6f6e65944e8c017494888c016694898c03747570944b014b024b0386942987948c06736861726564945d94284b014b0265681086948c026f64948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c0161944b0168074b0275752e';

  it('reads what CPython writes (protocols 2, 4 and 5)', () => {
    for (const hex of [P2, P4, P4.replace(/^8004/, '8005')]) {
      const v = values(hex) as Map<string, unknown>;
      expect(v.get('int')).toEqual([
        0,
        1,
        255,
        256,
        65535,
        65536,
        -1,
        -(2 ** 31),
        2 ** 31,
        2n ** 63n,
        -(2n ** 70n),
      ]);
      expect(v.get('float')).toEqual([1.5, -0, 1e300]);
      expect(v.get('s')).toBe('héllo ✓');
      expect([v.get('none'), v.get('t'), v.get('f')]).toEqual([null, true, false]);
      const tup = v.get('tup') as PickleTuple;
      expect(tup.items[0]).toBe(1);
      expect((tup.items[1] as PickleTuple).items).toEqual([2, 3]);
      const shared = (v.get('shared') as PickleTuple).items;
      expect(shared[0]).toBe(shared[1]);
      expect(shared[0]).toEqual([1, 2]);
      expect([...(v.get('od') as Map<string, number>)]).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
    }
    expect((values(P4) as Map<string, unknown>).get('b')).toEqual(Uint8Array.from([0, 255]));
  });

  it('names unknown opcodes, and bounds every length by the buffer', () => {
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 0xff), 'x'))).toMatch(/opcode 0xff at byte 2/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a.'), 'x'))).toMatch(
      /truncated/,
    );
    expect(
      syncInputError(() =>
        unpickle(bytesOf(0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '.'), 'x'),
      ),
    ).toMatch(/truncated/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, '.'), 'x'))).toMatch(
      /too long/,
    );
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'j', u32(0xffffffff), '.'), 'x'))).toMatch(
      /never stored/,
    );
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'R.'), 'x'))).toMatch(/underflow/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'e.'), 'x'))).toMatch(/no MARK/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 6, 'N.'), 'x'))).toMatch(/protocol 6/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'N'), 'x'))).toMatch(/truncated/);
    expect(syncInputError(() => unpickle(bytesOf(0x80, 2, 'K\x01Q.'), 'x'))).toMatch(/persistent id/);
  });

  it('keeps the memo sparse: a huge memo index allocates nothing', () => {
    expect(unpickle(bytesOf(0x80, 2, 'N', 'r', u32(0xfffffff0), 'j', u32(0xfffffff0), '.'), 'x')).toBeNull();
  });
});

describe('hostile pickles', () => {
  const marker = path.join(tmpdir(), `dit-auditor-pwned-${process.pid}-${Date.now()}`);
  const cmd = `touch ${marker}`;
  const cjsChildProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>;
  const spies = trapped.names.map((name) => vi.spyOn(cjsChildProcess as Record<string, () => void>, name));
  const evalSpy = vi.spyOn(globalThis, 'eval');

  // Each runs `touch MARKER` in CPython's pickle.loads.
  const hostile: Record<string, [string, Uint8Array]> = {
    'GLOBAL + REDUCE': ['posix.system', bytesOf(0x80, 2, 'cposix\nsystem\n', str(cmd), 0x85, 'R.')],
    'protocol 0 text': ['os.system', bytesOf(`cos\nsystem\n(S'${cmd}'\ntR.`)],
    STACK_GLOBAL: [
      'os.system',
      bytesOf(0x80, 4, 0x8c, 2, 'os', 0x94, 0x8c, 6, 'system', 0x94, 0x93, 0x94, str(cmd), 0x85, 'R.'),
    ],
    'STACK_GLOBAL through the memo': [
      'subprocess.getoutput',
      bytesOf(
        0x80,
        4,
        str('subprocess'),
        'q\x07',
        'N0',
        str('getoutput'),
        'q\x08',
        '0h\x07h\x08',
        0x93,
        str(cmd),
        0x85,
        'R.',
      ),
    ],
    INST: [
      'builtins.exec',
      bytesOf(0x80, 2, '(', str(`__import__('os').system('${cmd}')`), 'ibuiltins\nexec\n.'),
    ],
    OBJ: [
      'subprocess.Popen',
      bytesOf(0x80, 2, '(csubprocess\nPopen\n(', str('touch'), str(marker), 'l', 'o.'),
    ],
    NEWOBJ: [
      'subprocess.Popen',
      bytesOf(0x80, 2, 'csubprocess\nPopen\n', ']', str(cmd), 'a', 0x85, 0x81, '.'),
    ],
    'builtins.eval': [
      'builtins.eval',
      bytesOf(0x80, 2, 'cbuiltins\neval\n', str(`__import__('os').system('${cmd}')`), 0x85, 'R.'),
    ],
    'a lookalike of an allowed name': [
      'collections.OrderedDict.__init__',
      bytesOf(0x80, 2, 'ccollections\nOrderedDict.__init__\n)R.'),
    ],
    'torch v1 rebuild': [
      'torch._utils._rebuild_tensor',
      bytesOf(0x80, 2, 'ctorch._utils\n_rebuild_tensor\n)R.'),
    ],
    'inside a valid adapter': [
      'nt.system',
      bytesOf(
        // a valid one-module adapter without its closing SETITEMS and STOP, then one more item
        pickleOf(
          new Map([
            [
              'model.layers.0.mlp.up_proj',
              { tensor: { key: '0', type: 'FloatStorage', numel: 1, shape: [1] } },
            ],
          ]),
        ).subarray(0, -2),
        str('x'),
        'cnt\nsystem\n',
        str(cmd),
        0x85,
        'Ru.',
      ),
    ],
  };
  afterAll(() => vi.restoreAllMocks());

  for (const [label, [global, bytes]] of Object.entries(hostile)) {
    it(`refuses ${label}, naming ${global}`, async () => {
      const message = new RegExp(
        `it needs the global ${global.replace(/\./g, '\\.')}, which is not on the allowlist`,
      );
      expect(syncInputError(() => unpickle(bytes, 'evil.pkl'))).toMatch(message);
      expect(listPickleGlobals(bytes, 'evil.pkl')).toContain(global);
      expect(scanPickle(bytes, 'evil.pkl').forbidden).toContain(global);
      const zipped = writeTemp('evil.pt', torchZip(bytes, { 0: f32([1]) }));
      for (const load of [loadTorchFile, loadTorchAdapter, listTorchDiffEntries]) {
        expect(await inputError(load(zipped))).toMatch(message);
      }
      expect((await describeTorchFile(zipped)).forbiddenGlobals).toContain(global);
      const legacy = writeTemp('evil.bin', bytes);
      expect(await inputError(loadTorchFile(legacy))).toMatch(message);
    });
  }

  it('refuses at the GLOBAL opcode, before anything after it is read', () => {
    const bytes = bytesOf(0x80, 2, 'cos\nsystem\n', 0xff);
    expect(syncInputError(() => unpickle(bytes, 'early.pkl'))).toMatch(/global os\.system/);
  });

  it('marks a STACK_GLOBAL it cannot name as forbidden', () => {
    const bytes = bytesOf(`S'os'\nS'system'\n`, 0x93, '.');
    expect(scanPickle(bytes, 'x').forbidden[0]).toMatch(/STACK_GLOBAL with a computed name/);
  });

  it('refuses a legacy torch.save file whose object pickle needs os.system', async () => {
    const magic = Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex');
    const evil = hostile['GLOBAL + REDUCE'][1];
    const legacy = bytesOf(magic, pickleOf(1001), pickleOf(new Map()), evil, pickleOf([]), 0x80, 0xff, 0xff);
    expect(await inputError(loadTorchFile(writeTemp('legacy.pt', legacy)))).toMatch(/global posix\.system/);
    const benign = bytesOf(
      magic,
      pickleOf(1001),
      pickleOf(new Map()),
      pickleOf(null),
      pickleOf([]),
      0x80,
      0xff,
    );
    expect(await inputError(loadTorchFile(writeTemp('legacy-ok.pt', benign)))).toMatch(
      /legacy torch.save format/,
    );
  });

  const fixtures: [string, string][] = [
    ['evil-system.pt', 'posix.system'],
    ['evil-eval.pt', '__builtin__.eval'],
    ['evil-legacy.bin', 'posix.system'],
  ];
  for (const [name, global] of fixtures) {
    it(`refuses the fixture ${name}, naming ${global}, and runs nothing`, async () => {
      const raw = readFileSync(fixture(name)).toString('latin1');
      const payload = /touch (\/tmp\/[\w-]+)/.exec(raw);
      expect(payload).not.toBeNull();
      const sideEffect = (payload as RegExpExecArray)[1];
      const existedBefore = existsSync(sideEffect);
      const message = new RegExp(
        `refusing to load .*${name}: it needs the global ${global.replace(/\./g, '\\.')}`,
      );
      for (const load of [loadTorchFile, loadTorchAdapter, listTorchDiffEntries]) {
        expect(await inputError(load(fixture(name)))).toMatch(message);
      }
      const d = await describeTorchFile(fixture(name));
      expect(d.forbiddenGlobals).toEqual([global]);
      expect(d.tensors).toEqual([]);
      if (!existedBefore) expect(existsSync(sideEffect)).toBe(false);
    });
  }

  it('never spawned a process, evaluated code, or touched the marker', () => {
    expect(trapped.calls).toEqual([]);
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    expect(evalSpy).not.toHaveBeenCalled();
    expect(existsSync(marker)).toBe(false);
  });
});
