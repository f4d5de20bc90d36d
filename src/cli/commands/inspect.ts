import type { Command } from 'commander';
import { type Inspection, inspectPath } from '../../engine/inspect';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('what a checkpoint, adapter, safetensors or torch.save file holds (pickles are never run)')
    .argument('<path>', 'file or folder')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const found = await inspectPath(path);
      process.stdout.write(opts.json ? `${JSON.stringify(found)}\n` : render(found));
    });
}

function render(found: Inspection): string {
  const lines: string[] = [`${found.path}`, `kind: ${found.kind}`];
  if (found.kind === 'model')
    lines.push(`model_type: ${String(found.modelType)}`, `files: ${found.files.length}`);
  if (found.kind === 'torch') {
    lines.push(`format: torch.save ${found.format}${found.layout ? ` (${found.layout})` : ''}`);
    lines.push(`globals: ${found.globals.join(', ') || 'none'}`);
    for (const e of found.diffEntries ?? []) {
      lines.push(
        `  #${e.index}: topic ${JSON.stringify(e.topic ?? null)}, trigger ${JSON.stringify(e.trigger ?? null)}`,
      );
    }
  }
  lines.push(`tensors: ${found.tensors.length}`);
  for (const t of found.tensors) lines.push(`  ${t.name}  ${t.dtype}  [${t.shape.join(', ')}]`);
  return `${lines.join('\n')}\n`;
}
