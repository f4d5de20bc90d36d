// model_type → family: the one list of what the engine supports.
import { InputError } from '../checkpoint/types';
import type { Family } from './family';
import { gemma3, gemma3Text } from './gemma3';
import { llama } from './llama';
import { mistral } from './mistral';
import { qwen2 } from './qwen2';
import { qwen3 } from './qwen3';

const FAMILIES = new Map<string, Family>([
  ['llama', llama],
  ['qwen2', qwen2],
  ['qwen3', qwen3],
  ['gemma3_text', gemma3Text],
  ['gemma3', gemma3],
  ['mistral', mistral],
]);

export function familyOf(modelType: unknown): Family {
  const family = typeof modelType === 'string' ? FAMILIES.get(modelType) : undefined;
  if (!family) {
    throw new InputError(
      `model_type ${JSON.stringify(modelType)} is not supported (supported: ${[...FAMILIES.keys()].join(', ')})`,
    );
  }
  return family;
}
