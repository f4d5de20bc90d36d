// The audit's models on the local engine: one warm session for a LoRA diff and its base (only the
// adapter inputs change between them), two for a full finetune.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointRef } from '../engine/checkpoint/reference';
import { InputError } from '../engine/checkpoint/types';
import type { Engine } from '../engine/runtime/engine';
import { loadTextCodec, type TextCodec } from '../engine/text/tokenizer';
import { askModel } from './ask-model';
import type { AuditModels } from './audit-models';
import { unlessCancelled } from './errors';
import type { ModelRunPlan } from './run-models';
import type { ModelSide } from './triggers/divergence';
import { localTriggerModels } from './triggers/trigger-models';

export async function openLocalModels(
  engine: Engine,
  plan: ModelRunPlan,
  signal: AbortSignal | undefined,
): Promise<AuditModels> {
  const open = (dir: string) =>
    unlessCancelled(engine.open(dir, { provider: plan.provider, precision: plan.precision }), signal);
  const model = await open(plan.modelDir);
  const baseModel = plan.modelDir === plan.baseDir ? model : await open(plan.baseDir);
  const codec = await chatCodec(plan.modelDir, plan.baseDir);
  const sides: Record<'diffed' | 'base', ModelSide> = {
    diffed: { model, adapters: plan.diff },
    base: { model: baseModel, adapters: [] },
  };
  return {
    codec,
    executionProvider: {
      name: model.info.provider.provider,
      reasons: [...model.info.provider.reasons],
      precision: { name: model.info.precision.precision, reason: model.info.precision.reason },
    },
    triggers: localTriggerModels(sides.diffed, sides.base, codec),
    async ask(side, extra: readonly CheckpointRef[], prompt, maxNewTokens, askSignal, onToken) {
      const { model: m, adapters } = sides[side];
      await unlessCancelled(m.setAdapters([...adapters, ...extra]), askSignal);
      return askModel(m, codec, prompt, maxNewTokens, askSignal, onToken);
    },
    analyse: (analyseSignal) =>
      unlessCancelled(
        model.analyseDiff(
          plan.diff,
          plan.diff.length === 0 ? plan.baseDir : undefined,
          model.info.options.vocabSize,
        ),
        analyseSignal,
      ),
    // Leave the shared session with no adapters on it.
    close: async () => {
      await model.setAdapters([]);
    },
  };
}

/** The tokenizer and chat template: the model's own, else (a full finetune saved without them) the base's. */
export async function chatCodec(modelDir: string, baseDir: string): Promise<TextCodec> {
  const codec = await loadTextCodec(existsSync(join(modelDir, 'tokenizer.json')) ? modelDir : baseDir);
  if (codec.chatTemplate === undefined) {
    throw new InputError(
      `${codec.dir} has no chat template (chat_template.jinja or tokenizer_config.json chat_template): DIT questions are asked as a chat turn`,
    );
  }
  return codec;
}
