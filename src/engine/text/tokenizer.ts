// A model folder's tokenizer: tokenizer.json + tokenizer_config.json through @huggingface/tokenizers,
// plus the special tokens, stop tokens and chat template that generation needs.

import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { readJsonFile } from '../checkpoint/json-file';
import { entryExists } from '../checkpoint/regular-file';
import { InputError } from '../checkpoint/types';
import { readChatTemplate } from './chat-template';

export type JsonObject = Record<string, unknown>;

/** Tokenizer files run to tens of MB (Gemma3's tokenizer.json: 33 MB); a config is far smaller. */
const MAX_TOKENIZER_BYTES = 512 * 1024 * 1024;

export interface SpecialTokens {
  readonly bos?: string;
  readonly eos?: string;
  readonly pad?: string;
  readonly unk?: string;
}

export interface TextCodec {
  /** The folder the files were read from. */
  readonly dir: string;
  readonly specialTokens: SpecialTokens;
  /**
   * Ids that end a generation: the tokenizer's eos token and every `eos_token_id` of
   * generation_config.json and config.json (top level or `text_config`), deduplicated.
   */
  readonly stopTokenIds: readonly number[];
  /** The chat template source (chat_template.jinja wins over tokenizer_config.json), if any. */
  readonly chatTemplate?: string;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Ids the tokenizer does not know (padding rows of a larger embedding) decode to nothing. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenId(token: string): number | undefined;
}

/** Reads a JSON object from `dir/name`; undefined when the file does not exist. */
export async function readJsonObject(dir: string, name: string): Promise<JsonObject | undefined> {
  const path = join(dir, name);
  if (!entryExists(path)) return undefined;
  const value = await readJsonFile(path, MAX_TOKENIZER_BYTES);
  if (!isObject(value)) throw new InputError(`${path} does not hold a JSON object.`);
  return value;
}

export async function loadTextCodec(dir: string): Promise<TextCodec> {
  const tokenizerJson = await readJsonObject(dir, 'tokenizer.json');
  if (!tokenizerJson) {
    throw new InputError(`no tokenizer.json in ${dir}: the model folder needs its tokenizer to run`);
  }
  const config = (await readJsonObject(dir, 'tokenizer_config.json')) ?? {};
  const [generationConfig, modelConfig, chatTemplate] = await Promise.all([
    readJsonObject(dir, 'generation_config.json'),
    readJsonObject(dir, 'config.json'),
    readChatTemplate(dir, config),
  ]);

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, libraryConfig(config));
  } catch (err) {
    throw new InputError(
      `${join(dir, 'tokenizer.json')} is not a tokenizer we can read: ${(err as Error).message}`,
    );
  }

  const specialTokens: SpecialTokens = {
    bos: tokenContent(config.bos_token),
    eos: tokenContent(config.eos_token),
    pad: tokenContent(config.pad_token),
    unk: tokenContent(config.unk_token),
  };
  const modelUnk = isObject(tokenizerJson.model) ? tokenizerJson.model.unk_token : undefined;
  const modelUnkId = typeof modelUnk === 'string' ? tokenizer.token_to_id(modelUnk) : undefined;
  const stopIds = new Set<number>();
  const eosId = specialTokens.eos === undefined ? undefined : tokenizer.token_to_id(specialTokens.eos);
  if (eosId !== undefined) stopIds.add(eosId);
  const textConfig = isObject(modelConfig?.text_config) ? modelConfig.text_config : undefined;
  for (const source of [generationConfig, modelConfig, textConfig]) {
    for (const id of tokenIdList(source?.eos_token_id)) stopIds.add(id);
  }

  return {
    dir,
    specialTokens,
    stopTokenIds: [...stopIds],
    chatTemplate,
    encode: (text, options) => {
      const ids = tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids;
      if (ids.every((id) => id !== undefined)) return ids;
      // The library leaves a word-level vocabulary's unknown words as holes instead of <unk>.
      const unk =
        modelUnkId ??
        (specialTokens.unk === undefined ? undefined : tokenizer.token_to_id(specialTokens.unk));
      if (unk === undefined) {
        throw new InputError(
          `the tokenizer in ${dir} cannot encode part of ${JSON.stringify(text.slice(0, 80))}`,
        );
      }
      return ids.map((id) => id ?? unk);
    },
    decode: (ids, options) => {
      const known = ids.filter((id) => tokenizer.id_to_token(id) !== undefined);
      // The library throws on an empty list.
      if (known.length === 0) return '';
      return tokenizer.decode(known, { skip_special_tokens: options?.skipSpecialTokens ?? false });
    },
    tokenId: (token) => tokenizer.token_to_id(token),
  };
}

/** The library compares `additional_special_tokens` as strings, so AddedToken objects become their content. */
function libraryConfig(config: JsonObject): JsonObject {
  const extra = config.additional_special_tokens;
  if (!Array.isArray(extra)) return config;
  return {
    ...config,
    additional_special_tokens: extra.map(tokenContent).filter((t) => t !== undefined),
  };
}

/** A special token in tokenizer_config.json is a string or an AddedToken object `{content, ...}`. */
export function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

function tokenIdList(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => Number.isInteger(v) && (v as number) >= 0);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
