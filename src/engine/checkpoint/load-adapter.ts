// One entry point for every adapter or diff format: a PEFT folder (or its adapter_model.safetensors),
// or a torch.save file of the paper, with the entry of a list of weight diffs.
import { classifyCheckpoint } from './classify';
import { requireFiniteFactors } from './finite-factors';
import { loadPeftAdapter } from './peft';
import type { CheckpointRef } from './reference';
import { loadTorchAdapter } from './torch-lora';
import { InputError, type LoraAdapter } from './types';

export async function loadAdapter(ref: CheckpointRef): Promise<LoraAdapter> {
  return requireFiniteFactors(await loadAnyAdapter(ref));
}

async function loadAnyAdapter(ref: CheckpointRef): Promise<LoraAdapter> {
  const checkpoint = classifyCheckpoint(ref.path);
  if (checkpoint.kind === 'torch-file') return loadTorchAdapter(checkpoint.path, ref.entry);
  if (ref.entry !== undefined)
    throw new InputError(`${ref.path}: only a .pt list of weight diffs takes #INDEX`);
  if (checkpoint.kind === 'peft-adapter') return loadPeftAdapter(checkpoint.path);
  throw new InputError(`${ref.path} is a model folder (a full finetune), not an adapter`);
}
