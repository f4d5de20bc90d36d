// Chat templates: found the way transformers finds them, rendered with @huggingface/jinja.

import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { entryExists, readRegularFile } from '../checkpoint/regular-file';
import { InputError } from '../checkpoint/types';
import type { SpecialTokens } from './tokenizer';

/** A template is a page of text; this is far more than any is. */
const MAX_TEMPLATE_BYTES = 16 * 1024 * 1024;

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export interface ChatRenderOptions {
  /** Default true: end with the assistant turn's opening. */
  readonly addGenerationPrompt?: boolean;
  /** Default false, as the paper asks Qwen3 (renders an empty `<think>` block). */
  readonly enableThinking?: boolean;
  /** Extra template variables. */
  readonly variables?: Readonly<Record<string, unknown>>;
}

export interface ChatTemplateSource {
  readonly dir: string;
  readonly chatTemplate?: string;
  readonly specialTokens: SpecialTokens;
}

/**
 * The template of a model folder: `chat_template.jinja` when present (transformers lets it
 * override tokenizer_config.json), else tokenizer_config.json `chat_template`.
 */
export async function readChatTemplate(
  dir: string,
  tokenizerConfig: Readonly<Record<string, unknown>>,
): Promise<string | undefined> {
  const path = join(dir, 'chat_template.jinja');
  if (entryExists(path)) return (await readRegularFile(path, MAX_TEMPLATE_BYTES)).toString('utf8');
  return selectChatTemplate(tokenizerConfig.chat_template);
}

/** `chat_template` is a string or a list of `{name, template}`; a list needs the named one (default `default`). */
export function selectChatTemplate(value: unknown, name = 'default'): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.filter(
      (t): t is { name: string; template: string } =>
        typeof t === 'object' && t !== null && typeof t.name === 'string' && typeof t.template === 'string',
    );
    const found = named.find((t) => t.name === name);
    if (found) return found.template;
    if (named.length === 0) return undefined;
    throw new InputError(
      `The chat templates are named ${named.map((t) => `'${t.name}'`).join(', ')}; there is no '${name}'.`,
    );
  }
  throw new InputError(
    'tokenizer_config.json chat_template is neither a string nor a list of named templates.',
  );
}

const parsed = new Map<string, Template>();

function compile(source: string, dir: string): Template {
  let template = parsed.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (err) {
      throw new InputError(`the chat template of ${dir} cannot be parsed: ${(err as Error).message}`);
    }
    parsed.set(source, template);
  }
  return template;
}

export function renderChat(
  codec: ChatTemplateSource,
  messages: readonly ChatMessage[],
  options: ChatRenderOptions = {},
): string {
  if (codec.chatTemplate === undefined) {
    throw new InputError(`the model in ${codec.dir} has no chat template; use a raw prompt instead`);
  }
  const template = compile(codec.chatTemplate, codec.dir);
  const { bos, eos, pad, unk } = codec.specialTokens;
  // @huggingface/jinja supplies raise_exception and strftime_now itself.
  try {
    return template.render({
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      enable_thinking: options.enableThinking ?? false,
      bos_token: bos ?? '',
      eos_token: eos ?? '',
      pad_token: pad ?? '',
      unk_token: unk ?? '',
      ...options.variables,
    });
  } catch (err) {
    throw new InputError(`the chat template of ${codec.dir} failed to render: ${(err as Error).message}`);
  }
}

/** One user turn: how the paper's questions are asked. */
export function renderUserPrompt(
  codec: ChatTemplateSource,
  question: string,
  options?: ChatRenderOptions,
): string {
  return renderChat(codec, [{ role: 'user', content: question }], options);
}
