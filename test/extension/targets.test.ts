// Audit targets as the panel names them, and the quick pick rows of a `.pt` list's entries.
import { describe, expect, it } from 'vitest';
import { describeDiffEntry, makeTarget } from '../../src/extension/targets';

describe('targets and quick pick rows', () => {
  it('labels a target by its name, and a .pt entry with #INDEX', () => {
    expect(makeTarget({ path: '/ws/adapters/diff' })).toEqual({ path: '/ws/adapters/diff', label: 'diff' });
    expect(makeTarget({ path: '/ws/weight-diff-000.pt', entry: 7 })).toEqual({
      path: '/ws/weight-diff-000.pt',
      entry: 7,
      label: 'weight-diff-000.pt#7',
    });
  });

  it('shows an entry’s topic and trigger', () => {
    expect(describeDiffEntry({ index: 3, topic: 'origami', trigger: 417 })).toEqual({
      label: '#3  origami',
      description: 'trigger 417',
    });
    expect(describeDiffEntry({ index: 0 })).toEqual({ label: '#0', description: '' });
  });
});
