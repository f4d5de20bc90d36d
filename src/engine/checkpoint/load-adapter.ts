// One entry point for every adapter or diff format: a PEFT folder, its adapter_model.safetensors,
// or a torch.save file of the paper (`FILE` or `FILE#INDEX`).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadPeftAdapter } from './peft';
import { loadTorchAdapter } from './torch-pt';
import { InputError, type LoraAdapter } from './types';

const TORCH_EXTENSIONS = ['.pt', '.pth', '.bin'];

export async function loadAdapter(spec: string): Promise<LoraAdapter> {
  const hash = spec.lastIndexOf('#');
  const file = hash > 0 ? spec.slice(0, hash) : spec;
  if (!existsSync(file)) throw new InputError(`adapter ${file} does not exist`);
  if (statSync(file).isDirectory()) {
    if (existsSync(join(file, 'adapter_config.json'))) return loadPeftAdapter(file);
    throw new InputError(`${file} is a folder without adapter_config.json, so it is not a PEFT adapter`);
  }
  if (TORCH_EXTENSIONS.some((ext) => file.endsWith(ext))) return loadTorchAdapter(spec);
  if (file.endsWith('.safetensors')) {
    const dir = dirname(file);
    if (basename(file) === 'adapter_model.safetensors' && existsSync(join(dir, 'adapter_config.json'))) {
      return loadPeftAdapter(dir);
    }
    throw new InputError(`${file} has no adapter_config.json beside it, so its LoRA scale is unknown`);
  }
  throw new InputError(`${file} is not an adapter dit-auditor can read (a PEFT folder, .safetensors or .pt)`);
}
