// Token rows for the trigger search: a candidate prefix put at the start of the user's turn,
// before an ordinary prompt, as an attacker's trigger phrase would be
// (`<|im_start|>user\n{candidate} {prompt}<|im_end|>…assistant\n`). The search works on token ids,
// so the rows are spliced from the rendered chat's two halves.
import { InputError } from '../../engine/checkpoint/types';
import { renderUserPrompt } from '../../engine/text/chat-template';
import type { TextCodec } from '../../engine/text/tokenizer';

export interface PromptFrame {
  readonly prompt: string;
  /** The chat up to where the user's words start. */
  readonly before: readonly number[];
  /** ` {prompt}` and the rest of the chat, after a candidate. */
  readonly afterCandidate: readonly number[];
  /** The prompt with no candidate. */
  readonly plain: readonly number[];
}

export function promptFrame(codec: TextCodec, prompt: string): PromptFrame {
  const rendered = renderUserPrompt(codec, prompt, { enableThinking: false });
  const at = rendered.indexOf(prompt);
  if (at < 0) throw new InputError(`the chat template of ${codec.dir} does not keep the prompt verbatim`);
  const encode = (text: string) => codec.encode(text, { addSpecialTokens: false });
  const before = encode(rendered.slice(0, at));
  return {
    prompt,
    before,
    afterCandidate: encode(` ${rendered.slice(at)}`),
    plain: [...before, ...encode(rendered.slice(at))],
  };
}

export function withCandidate(frame: PromptFrame, candidate: readonly number[]): number[] {
  return candidate.length === 0 ? [...frame.plain] : [...frame.before, ...candidate, ...frame.afterCandidate];
}

/** Tokens worth trying as part of a trigger: text a user could type (no special, partial-byte or blank tokens). */
export function typeableToken(codec: TextCodec, id: number): boolean {
  const text = codec.decode([id], { skipSpecialTokens: true });
  return text.trim() !== '' && !text.includes('\uFFFD') && codec.decode([id]) === text;
}
