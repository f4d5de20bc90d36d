// The "Audit Checkpoint" quick pick's order: diffs first, and a base said to be one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { checkpointRoles } from '../../src/extension/checkpoint-roles';
import { tempDir } from '../engine/helpers';

it('puts the diffs first, and names the model folders the diffs name as their base', () => {
  const root = tempDir();
  const adapter = (path: string, base?: string) => {
    mkdirSync(path, { recursive: true });
    writeFileSync(
      join(path, 'adapter_config.json'),
      JSON.stringify(base ? { base_model_name_or_path: base } : {}),
    );
    return { path, kind: 'peft-adapter' as const };
  };
  const model = (path: string) => ({ path, kind: 'model-folder' as const });
  const folders = [
    model(join(root, 'base')),
    model(join(root, 'a-full-finetune')),
    adapter(join(root, 'diffs', 'comet'), '../../base'),
    adapter(join(root, 'diffs', 'pirate'), join(root, 'base')),
    adapter(join(root, 'diffs', 'unnamed')),
  ];
  expect(checkpointRoles(folders)).toEqual([
    { path: join(root, 'diffs', 'comet'), role: 'diff' },
    { path: join(root, 'diffs', 'pirate'), role: 'diff' },
    { path: join(root, 'diffs', 'unnamed'), role: 'diff' },
    { path: join(root, 'a-full-finetune'), role: 'model' },
    { path: join(root, 'base'), role: 'base', diffs: 2 },
  ]);
});
