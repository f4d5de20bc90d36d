// The one parser of checkpoint references (`PATH`, `PATH#INDEX`), on the names that fooled the old ones.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatCheckpointRef, parseCheckpointRef } from '../../src/engine/checkpoint/reference';
import { InputError } from '../../src/engine/checkpoint/types';

let root: string;
const file = (name: string) => {
  const p = join(root, name);
  writeFileSync(p, '');
  return p;
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dit-ref-'));
  mkdirSync(join(root, 'adapter#7'));
});

describe('parseCheckpointRef', () => {
  it('reads PATH and PATH#INDEX', () => {
    const pt = file('weight-diff-000.pt');
    expect(parseCheckpointRef(pt)).toEqual({ path: pt });
    expect(parseCheckpointRef(`${pt}#0`)).toEqual({ path: pt, entry: 0 });
    expect(parseCheckpointRef(`${pt}#12`)).toEqual({ path: pt, entry: 12 });
  });

  it('takes a name with # in it as the file it names', () => {
    const dit = file('dit#2.pt');
    expect(parseCheckpointRef(dit)).toEqual({ path: dit });
    expect(parseCheckpointRef(`${dit}#3`)).toEqual({ path: dit, entry: 3 });
    expect(parseCheckpointRef(join(root, 'adapter#7'))).toEqual({ path: join(root, 'adapter#7') });
  });

  it('prefers the file that exists when both readings would', () => {
    const list = file('list.pt');
    const odd = file('list.pt#1');
    expect(parseCheckpointRef(odd)).toEqual({ path: odd });
    expect(parseCheckpointRef(`${list}#2`)).toEqual({ path: list, entry: 2 });
  });

  it('comes back absolute from a relative path', () => {
    const pt = file('relative.pt');
    expect(parseCheckpointRef(`${relative(process.cwd(), pt)}#1`)).toEqual({ path: pt, entry: 1 });
  });

  it('refuses a bad INDEX, a missing file and an empty argument with one-line input errors', () => {
    const pt = file('bad-index.pt');
    const cases: [string, RegExp][] = [
      [`${pt}#first`, /the INDEX in FILE#INDEX must be a whole number$/],
      [`${pt}#-1`, /must be a whole number$/],
      [`${pt}#1.5`, /must be a whole number$/],
      [`${pt}#`, /must be a whole number$/],
      [`${pt}#1234567890`, /must be a whole number$/],
      [join(root, 'missing.pt#1'), /missing\.pt#1 does not exist$/],
      [join(root, 'missing.pt'), /missing\.pt does not exist$/],
      ['#3', /^#3 does not exist$/],
      ['', /no checkpoint path given/],
      [`${join(root, 'ctl\u001b.pt')}`, /ctl\\u001b\.pt does not exist$/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCheckpointRef(text), text).toThrow(InputError);
      expect(() => parseCheckpointRef(text), text).toThrow(message);
    }
  });
});

describe('formatCheckpointRef', () => {
  it('writes what parseCheckpointRef reads', () => {
    const pt = file('round-trip.pt');
    for (const ref of [{ path: pt }, { path: pt, entry: 4 }]) {
      expect(parseCheckpointRef(formatCheckpointRef(ref))).toEqual(ref);
    }
  });
});
