import type { Command } from 'commander';
import { InputError } from '../../engine/checkpoint/types';
import { type Inspection, inspectPath } from '../../engine/inspect';

/** The tensor and entry caps of the readers keep a description far below this. */
const MAX_OUTPUT_CHARS = 64 * 1024 * 1024;

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('what a checkpoint, adapter, safetensors or torch.save file holds (pickles are never run)')
    .argument('<path>', 'file or folder')
    .option('--json', 'print JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const found = await inspectPath(path);
      const text = opts.json ? `${JSON.stringify(found)}\n` : render(found);
      if (text.length > MAX_OUTPUT_CHARS) {
        throw new InputError(`${path}: its description runs to ${text.length} characters; not a checkpoint?`);
      }
      const links = 'outsideLinks' in found ? (found.outsideLinks ?? []) : [];
      for (const { file, target } of links) {
        process.stderr.write(`dit-audit: warning: ${file} is a link out of its folder, to ${target}\n`);
      }
      process.stdout.write(text);
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
