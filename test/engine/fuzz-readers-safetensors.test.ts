// Hostile-input fuzzing: whatever bytes a safetensors file or PEFT folder holds, the readers end in
// a result or an InputError, never another error and never a hang.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPeftAdapter } from '../../src/engine/checkpoint/peft';
import { openSafetensorsFile } from '../../src/engine/checkpoint/safetensors';
import { InputError } from '../../src/engine/checkpoint/types';
import { safetensorsBytes } from './helpers';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/tiny');
const SAMPLES = [
  'qwen3-tiny-lora-r4/adapter_model.safetensors', // F32, with __metadata__
  'qwen2-tiny-lora-r4/adapter_model.safetensors',
  'qwen3-tiny/model-00002-of-00002.safetensors', // BF16
  'qwen2-tiny/model.safetensors', // F16
];
// FUZZ_RUNS=5000 for a longer hunt.
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

let tmp: string;
const samples = new Map<string, Buffer>();
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dit-fuzz-'));
  for (const sample of SAMPLES) samples.set(sample, await readFile(path.join(FIXTURES, sample)));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

type Mutation =
  | { kind: 'set'; at: number; inHeader: boolean; value: number }
  | { kind: 'insert'; at: number; inHeader: boolean; bytes: Uint8Array }
  | { kind: 'delete'; at: number; inHeader: boolean; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'length'; value: bigint }
  | { kind: 'field'; tensor: number; field: string; value: unknown }
  | { kind: 'shift'; tensor: number; side: 0 | 1; delta: number };

const position = { at: fc.nat({ max: 1 << 30 }), inHeader: fc.boolean() };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('set' as const), ...position, value: fc.nat({ max: 255 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      ...position,
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        fc.constantFrom(
          ...['{', '}', '"', ',', '[', ']', ':', '-1', '1e400', '\\u0000'].map((s) => Buffer.from(s)),
        ),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      ...position,
      count: fc.integer({ min: 1, max: 32 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: 1 << 30 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('length' as const),
      value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 5000n })),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      tensor: fc.nat(),
      field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'),
      value: fc.oneof(
        fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'BOOL', 'F8_E4M3', ''),
        fc.array(fc.integer({ min: -2, max: 70000 }), { maxLength: 4 }),
        fc.tuple(fc.nat({ max: 200000 }), fc.nat({ max: 200000 })),
        fc.constant([2 ** 53, 2 ** 53 + 8]),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('shift' as const),
      tensor: fc.nat(),
      side: fc.constantFrom(0 as const, 1 as const),
      delta: fc.integer({ min: -4096, max: 4096 }),
    }),
  },
);

function headerEnd(bytes: Buffer): number {
  if (bytes.length < 8) return bytes.length;
  const n = bytes.readBigUInt64LE(0);
  return n > BigInt(bytes.length) ? bytes.length : 8 + Number(n);
}

/** Rewrites the header JSON (when it still parses) and keeps the data section as is. */
function editHeader(
  bytes: Buffer,
  edit: (header: Record<string, Record<string, unknown>>, names: string[]) => void,
): Buffer {
  const end = headerEnd(bytes);
  let header: unknown;
  try {
    header = JSON.parse(bytes.subarray(8, end).toString('utf8'));
  } catch {
    return bytes;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bytes;
  const record = header as Record<string, Record<string, unknown>>;
  const names = Object.keys(record).filter(
    (k) => k !== '__metadata__' && typeof record[k] === 'object' && record[k] !== null,
  );
  if (names.length === 0) return bytes;
  edit(record, names);
  return safetensorsBytes(record, bytes.subarray(end));
}

function apply(bytes: Buffer, m: Mutation): Buffer {
  const limit = (inHeader: boolean) => Math.max(1, inHeader ? headerEnd(bytes) : bytes.length);
  switch (m.kind) {
    case 'set': {
      const out = Buffer.from(bytes);
      if (out.length > 0) out[(m.at % limit(m.inHeader)) % out.length] = m.value;
      return out;
    }
    case 'insert': {
      const at = m.at % (limit(m.inHeader) + 1);
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    }
    case 'delete': {
      const at = m.at % limit(m.inHeader);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    }
    case 'truncate':
      return bytes.subarray(0, m.at % (bytes.length + 1));
    case 'length': {
      if (bytes.length < 8) return bytes;
      const out = Buffer.from(bytes);
      out.writeBigUInt64LE(m.value);
      return out;
    }
    case 'field':
      return editHeader(bytes, (header, names) => {
        header[names[m.tensor % names.length]][m.field] = m.value;
      });
    case 'shift':
      return editHeader(bytes, (header, names) => {
        const offsets = header[names[m.tensor % names.length]].data_offsets;
        if (Array.isArray(offsets) && typeof offsets[m.side] === 'number') offsets[m.side] += m.delta;
      });
  }
}

/** Runs `read` and returns 'ok' or 'input-error'; any other error fails the property. */
async function outcome(read: () => Promise<void>): Promise<'ok' | 'input-error'> {
  try {
    await read();
    return 'ok';
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    expect(error.message).not.toContain('\n');
    return 'input-error';
  }
}

describe('fuzzing the safetensors reader', () => {
  it('ends in tensors or an InputError, whatever the bytes', { timeout: 60_000 }, async () => {
    const file = path.join(tmp, 'fuzz.safetensors');
    const seen = { ok: 0, 'input-error': 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SAMPLES),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (sample, mutations) => {
          const bytes = mutations.reduce(apply, samples.get(sample) ?? Buffer.alloc(0));
          await writeFile(file, bytes);
          const result = await outcome(async () => {
            const source = await openSafetensorsFile(file);
            for (const name of source.names()) {
              const ref = source.get(name);
              const values = await source.readFloat32(name);
              expect(values.length).toBe(ref?.shape.reduce((a, b) => a * b, 1));
              expect(ref?.offset).toBeGreaterThanOrEqual(8);
              expect((ref?.offset ?? 0) + (ref?.byteLength ?? 0)).toBeLessThanOrEqual(bytes.length);
            }
          });
          seen[result]++;
        },
      ),
      { numRuns: RUNS, timeout: 5_000 },
    );
    // The mutations must exercise both outcomes, or the property proves little.
    expect(seen.ok).toBeGreaterThan(0);
    expect(seen['input-error']).toBeGreaterThan(0);
  });
});

describe('fuzzing the PEFT reader', () => {
  const configKeys = [
    'peft_type',
    'r',
    'lora_alpha',
    'use_rslora',
    'target_modules',
    'layers_to_transform',
    'layers_pattern',
    'rank_pattern',
    'alpha_pattern',
    'bias',
    'modules_to_save',
    'use_dora',
    'exclude_modules',
  ];

  it('ends in an adapter or an InputError, whatever the weights or config hold', {
    timeout: 120_000,
  }, async () => {
    const fixture = path.join(FIXTURES, 'qwen3-tiny-lora-r4');
    const weights = await readFile(path.join(fixture, 'adapter_model.safetensors'));
    const config = JSON.parse(await readFile(path.join(fixture, 'adapter_config.json'), 'utf8'));
    const dir = path.join(tmp, 'peft');
    await mkdir(dir, { recursive: true });
    const configEdit = fc.option(
      fc.record({
        key: fc.constantFrom(...configKeys),
        value: fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(
            'all-linear',
            '.*\\.q_proj',
            'layers',
            ['q_proj', 'v_proj', 'o_proj'],
            { q_proj: 2 },
            [0, 1],
          ),
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { maxLength: 3 }), configEdit, async (mutations, edit) => {
        await writeFile(path.join(dir, 'adapter_model.safetensors'), mutations.reduce(apply, weights));
        const cfg = edit ? { ...config, [edit.key]: edit.value } : config;
        await writeFile(path.join(dir, 'adapter_config.json'), JSON.stringify(cfg));
        await outcome(async () => {
          const adapter = await loadPeftAdapter(dir);
          for (const f of adapter.factors) {
            expect(f.A.length).toBe(f.rank * f.inFeatures);
            expect(f.B.length).toBe(f.outFeatures * f.rank);
          }
        });
      }),
      { numRuns: RUNS, timeout: 5_000 },
    );
  });
});
