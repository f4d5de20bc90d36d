// The pickle-scan worker the extension runs: it names the globals a pickle would call, for zip
// and legacy files alike, and runs none of them (the fixtures' payload would create a file).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PickleScanClient } from '../../src/extension/pickles/scan-client';
import { tempDir } from '../engine/helpers';
import { REPO, TORCH_PICKLE } from '../engine/paths';

/** What evil-system.pt and evil-legacy.bin would run: `touch /tmp/PWNED-by-pickle`. */
const PAYLOAD_MARK = '/tmp/PWNED-by-pickle';
const client = new PickleScanClient(join(REPO, 'dist'));
afterAll(() => client.dispose());

describe('the pickle-scan worker', () => {
  it('names the globals outside the allowlist, and runs nothing', async () => {
    rmSync(PAYLOAD_MARK, { force: true });
    expect(await client.scan(join(TORCH_PICKLE, 'evil-system.pt'))).toMatchObject({
      ok: true,
      legacy: false,
      forbidden: [expect.stringMatching(/^(posix|os)\.system$/)],
    });
    expect(await client.scan(join(TORCH_PICKLE, 'evil-eval.pt'))).toMatchObject({
      forbidden: [expect.stringMatching(/^(__builtin__|builtins)\.eval$/)],
    });
    expect(await client.scan(join(TORCH_PICKLE, 'evil-legacy.bin'))).toMatchObject({
      legacy: true,
      forbidden: [expect.stringMatching(/system$/)],
    });
    expect(existsSync(PAYLOAD_MARK)).toBe(false);
  });

  it('passes the paper’s files, and refuses what is not a torch file', async () => {
    for (const file of ['weight-diff-000.pt', 'dit-adapter.pt'])
      expect((await client.scan(join(TORCH_PICKLE, file))).forbidden).toEqual([]);
    const notTorch = join(tempDir(), 'random.bin');
    writeFileSync(notTorch, 'not a pickle at all');
    await expect(client.scan(notTorch)).rejects.toThrow(/random\.bin is not a torch.save file/);
    // The worker lives on after a refusal.
    expect((await client.scan(join(TORCH_PICKLE, 'weight-diff-000.pt'))).ok).toBe(true);
  });
});
