// Reading a JSON file of a checkpoint (config.json, adapter_config.json, an index, a tokenizer):
// a regular file, of a bounded size, valid UTF-8, strict JSON (strict-json.ts).
import { readRegularFile } from './regular-file';
import { parseStrictJson } from './strict-json';
import { InputError } from './types';

/** Larger than any config or index; tokenizers pass their own (Gemma3's tokenizer.json is 33 MB). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export async function readJsonFile(
  path: string,
  maxBytes = MAX_CONFIG_BYTES,
  fail: (problem: string) => InputError = (p) => new InputError(`${path}: ${p}`),
): Promise<unknown> {
  const bytes = await readRegularFile(path, maxBytes, fail);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw fail('not valid UTF-8');
  }
  const parsed = parseStrictJson(text);
  if ('problem' in parsed) throw fail(parsed.problem);
  return parsed.value;
}
