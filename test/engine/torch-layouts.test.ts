// A `.pt` file's layout is read once per version of the file, however many callers ask.
import { copyFileSync, mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeTorchFile } from '../../src/engine/checkpoint/torch-layouts';
import { TORCH_PICKLE } from './paths';

describe('describeTorchFile', () => {
  it('answers an unchanged file from memory, and reads a changed one again', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dit-layouts-')), 'checkpoint.pt');
    copyFileSync(join(TORCH_PICKLE, 'weight-diff-000.pt'), file);
    const first = describeTorchFile(file);
    expect(describeTorchFile(file)).toBe(first);
    expect((await first).layout).toBe('weight-diffs');

    copyFileSync(join(TORCH_PICKLE, 'dit-adapter.pt'), file);
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    const second = describeTorchFile(file);
    expect(second).not.toBe(first);
    expect((await second).layout).toBe('dit-adapter');
  });
});
