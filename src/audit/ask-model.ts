// One greedy answer to one question, asked as a user turn of the model's chat template with
// thinking off (DESIGN.md §1), exactly as `dit-audit generate --chat` asks it.
import type { ModelHandle } from '../engine/runtime/engine';
import { generateFromText } from '../engine/text/generate';
import type { FinishReason } from '../engine/text/stopping';
import type { TextCodec } from '../engine/text/tokenizer';
import { AuditCancelledError } from './errors';

export interface Reply {
  readonly text: string;
  readonly tokens: number;
  readonly finishReason: Exclude<FinishReason, 'cancelled'>;
}

export async function askModel(
  model: ModelHandle,
  codec: TextCodec,
  prompt: string,
  maxNewTokens: number,
  signal: AbortSignal | undefined,
  onToken?: (generated: number) => void,
): Promise<Reply> {
  let generated = 0;
  const [result] = await generateFromText(
    codec,
    () => model.sequence(256),
    [prompt],
    {
      chat: true,
      maxNewTokens,
      chatOptions: { enableThinking: false },
      onToken: onToken && (() => onToken(++generated)),
    },
    signal,
  );
  if (result.finishReason === 'cancelled') throw new AuditCancelledError();
  return { text: result.text, tokens: result.tokens.length, finishReason: result.finishReason };
}
