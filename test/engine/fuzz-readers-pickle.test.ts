// Mutated torch.save files and pickles: every run must end in a value or an InputError, never in
// another exception, and never hang.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTorchFile, listTorchDiffEntries } from '../../src/engine/checkpoint/torch-layouts';
import { loadTorchAdapter } from '../../src/engine/checkpoint/torch-lora';
import { loadTorchFile } from '../../src/engine/checkpoint/torch-values';
import { InputError } from '../../src/engine/checkpoint/types';
import { scanPickle, unpickle } from '../../src/engine/checkpoint/unpickler';

const FIXTURES = path.resolve(__dirname, '../../../shared/fixtures/torch-pickle');
const ZIPS = ['dit-adapter.pt', 'weight-diff-000.pt', 'evil-system.pt', 'evil-eval.pt'];
const RUNS = 250;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dit-fuzz-pickle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first entry of a stored zip (torch puts data.pkl first): where its bytes are. */
function firstEntry(zip: Buffer): [number, number] {
  const start = 30 + zip.readUInt16LE(26) + zip.readUInt16LE(28);
  return [start, start + zip.readUInt32LE(18)];
}

/** Local header + data.pkl, and the central directory + end record: where structure lives. */
function structuralRegions(zip: Buffer): [number, number][] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const cd = eocd >= 0 ? zip.readUInt32LE(eocd + 16) : Math.max(0, zip.length - 4096);
  return [
    [0, firstEntry(zip)[1]],
    [Math.min(cd, zip.length - 1), zip.length],
  ];
}

interface Mutation {
  readonly edits: readonly (readonly [number, number])[];
  readonly cut?: number;
}

function mutationOf(length: number, regions: readonly [number, number][]): fc.Arbitrary<Mutation> {
  const position = fc.oneof(
    ...regions.map(([a, b]) => fc.integer({ min: a, max: b - 1 })),
    fc.integer({ min: 0, max: length - 1 }),
  );
  return fc.record({
    edits: fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    // Most truncations just lose the end record; keep them rare so edits reach deeper checks.
    cut: fc.oneof(
      { weight: 9, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: length }) },
    ),
  });
}

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (const [at, value] of m.edits) out[at] = value;
  return m.cut === undefined ? out : out.subarray(0, m.cut);
}

/** Byte edits, insertions and deletions, for a raw pickle. */
const splices = (length: number) =>
  fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: length }),
      remove: fc.integer({ min: 0, max: 4 }),
      insert: fc.uint8Array({ maxLength: 6 }),
    }),
    { minLength: 1, maxLength: 5 },
  );

function splice(
  bytes: Uint8Array,
  edits: readonly { at: number; remove: number; insert: Uint8Array }[],
): Uint8Array {
  let out = Array.from(bytes);
  for (const e of edits) {
    const at = Math.min(e.at, out.length);
    out = [...out.slice(0, at), ...e.insert, ...out.slice(at + e.remove)];
  }
  return Uint8Array.from(out);
}

async function settles(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
  }
}

function returnsOrInputError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
  }
}

describe('fuzzing torch.save zips', () => {
  for (const name of ZIPS) {
    it(`${name}: mutated bytes end in a value or an InputError`, async () => {
      const original = readFileSync(path.join(FIXTURES, name));
      const target = path.join(dir, `mutated-${name}`);
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(mutationOf(original.length, structuralRegions(original)), async (m) => {
          writeFileSync(target, apply(original, m));
          await settles(loadTorchAdapter(target));
          await settles(describeTorchFile(target));
          await settles(listTorchDiffEntries(target));
          await settles(
            loadTorchFile(target).then(undefined, (e: unknown) => {
              refused++;
              throw e;
            }),
          );
        }),
        { numRuns: RUNS, timeout: 5_000 },
      );
      expect(refused).toBeGreaterThan(0); // the mutations do reach the reader's checks
    }, 120_000);
  }

  it('a hostile fixture stays refused under mutations that keep its pickle intact', async () => {
    const original = readFileSync(path.join(FIXTURES, 'evil-system.pt'));
    const [, pklEnd] = firstEntry(original);
    const target = path.join(dir, 'mutated-evil-tail.pt');
    await fc.assert(
      fc.asyncProperty(mutationOf(original.length, [[pklEnd, original.length]]), async (m) => {
        writeFileSync(target, apply(original, { edits: m.edits.filter(([at]) => at >= pklEnd) }));
        const err = await loadTorchFile(target).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(InputError);
      }),
      { numRuns: 100, timeout: 5_000 },
    );
  });
});

describe('fuzzing the unpickler directly', () => {
  const pickles: [string, Uint8Array][] = [
    ...ZIPS.map((name): [string, Uint8Array] => {
      const zip = readFileSync(path.join(FIXTURES, name));
      const [start, end] = firstEntry(zip);
      return [name, Uint8Array.from(zip.subarray(start, end))];
    }),
    ['evil-legacy.bin', Uint8Array.from(readFileSync(path.join(FIXTURES, 'evil-legacy.bin')))],
  ];

  for (const [name, pickle] of pickles) {
    it(`${name}: data.pkl with bytes changed, inserted and removed`, () => {
      expect(pickle[0]).toBe(0x80);
      fc.assert(
        fc.property(splices(pickle.length), (edits) => {
          const bytes = splice(pickle, edits);
          returnsOrInputError(() => unpickle(bytes, name));
          returnsOrInputError(() => scanPickle(bytes, name));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('random bytes after a PROTO opcode', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        const bytes = Uint8Array.from([0x80, 2, ...tail]);
        returnsOrInputError(() => unpickle(bytes, 'random'));
        returnsOrInputError(() => scanPickle(bytes, 'random'));
      }),
      { numRuns: 300 },
    );
  });

  // Well-formed opcodes in random order reach deeper than random bytes: allowlisted globals get
  // called with arbitrary arguments, persistent ids get arbitrary shapes.
  const op = (...bytes: (number | string)[]) =>
    bytes.flatMap((b) => (typeof b === 'number' ? [b] : [...Buffer.from(b, 'latin1')]));
  const opcode = fc.oneof(
    fc.constantFrom(
      ...'(0123NR)]}tlduaesbQ.'.split('').map((c) => op(c)),
      [0x85],
      [0x86],
      [0x87],
      [0x88],
      [0x89],
      [0x93],
      [0x94],
      [0x81],
    ),
    fc.integer({ min: 0, max: 255 }).map((n) => op('K', n)),
    fc.integer({ min: 0, max: 4 }).map((n) => op('q', n)),
    fc.integer({ min: 0, max: 4 }).map((n) => op('h', n)),
    fc
      .constantFrom('storage', 'cpu', '0', '1', 'weight_diff', 'model.layers.0.mlp.up_proj', 'torch', 'os')
      .map((s) => op(0x8c, s.length, s)),
    fc
      .constantFrom(
        'collections\nOrderedDict\n',
        'torch._utils\n_rebuild_tensor_v2\n',
        'torch._utils\n_rebuild_parameter\n',
        'torch\nBFloat16Storage\n',
        'torch\nFloatStorage\n',
        'torch\nHalfStorage\n',
        'os\nsystem\n',
      )
      .map((g) => op('c', g)),
  );

  it('random sequences of well-formed opcodes', () => {
    fc.assert(
      fc.property(fc.array(opcode, { maxLength: 80 }), (ops) => {
        const bytes = Uint8Array.from([0x80, 2, ...ops.flat(), 0x2e]);
        returnsOrInputError(() => unpickle(bytes, 'ops'));
        returnsOrInputError(() => scanPickle(bytes, 'ops'));
      }),
      { numRuns: 300 },
    );
  });
});
