// The part of an audit that runs models: each interpreter stacked on the diff answers its question
// (and the extra ones), then the finetune and its base answer ordinary prompts side by side.
// One warm session serves it all; only the adapter inputs change between steps.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../engine/checkpoint/types';
import type { Engine, ModelHandle } from '../engine/runtime/engine';
import type { ProviderPreference } from '../engine/runtime/ort-session';
import { loadTextCodec, type TextCodec } from '../engine/text/tokenizer';
import { askModel } from './ask-model';
import { throwIfCancelled, unlessCancelled } from './errors';
import type { ProgressTracker } from './progress';
import { EVIDENCE_MAX_NEW_TOKENS, maxNewTokensFor } from './questions';
import type { Answer, AuditReport, EvidenceSample, InterpreterIdentity, QuestionKind } from './report';

export interface ModelRunPlan {
  /** The folder whose weights are the model under audit: the base (a diff rides on it) or a full finetune. */
  readonly modelDir: string;
  readonly baseDir: string;
  /** The diff as adapter specs; empty for a full finetune. */
  readonly diff: readonly string[];
  readonly interpreters: readonly InterpreterIdentity[];
  readonly extraQuestions: readonly string[];
  /** Empty: no evidence (the subject is its own base). */
  readonly evidencePrompts: readonly string[];
  readonly maxNewTokens?: number;
  readonly provider: ProviderPreference;
}

export interface ModelRun {
  readonly answers: Answer[];
  readonly evidence: EvidenceSample[];
  readonly executionProvider: NonNullable<AuditReport['executionProvider']>;
  readonly loadMs: number;
  readonly interpretMs: number;
  readonly evidenceMs: number;
}

interface Question {
  readonly interpreter: number;
  readonly question: string;
  readonly questionKind: QuestionKind;
  readonly maxNewTokens: number;
}

export async function runModels(
  engine: Engine,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
): Promise<ModelRun> {
  const t0 = performance.now();
  progress.report('load', `Loading ${plan.modelDir}`, 0.2);
  const model = await unlessCancelled(engine.open(plan.modelDir, { provider: plan.provider }), signal);
  const codec = await chatCodec(plan.modelDir, plan.baseDir);
  const t1 = performance.now();

  const questions: Question[] = plan.interpreters
    .flatMap((interp, interpreter) => [
      { interpreter, question: interp.question, questionKind: interp.questionKind },
      ...plan.extraQuestions.map((question) => ({ interpreter, question, questionKind: 'custom' as const })),
    ])
    .map((q) => ({ ...q, maxNewTokens: maxNewTokensFor(q.questionKind, plan.maxNewTokens) }));
  const interpretTick = ticker(
    progress.span('interpret', 0.3, 0.75),
    questions.map((q) => q.maxNewTokens),
  );
  const answers: Answer[] = [];
  for (const [i, interp] of plan.interpreters.entries()) {
    throwIfCancelled(signal);
    await unlessCancelled(model.setAdapters([...plan.diff, interp.path]), signal);
    for (const q of questions.filter((q) => q.interpreter === i)) {
      const step = interpretTick(`Asking ${interp.name}: ${q.question}`);
      const reply = await askModel(model, codec, q.question, q.maxNewTokens, signal, step);
      const { interpreter, question, questionKind } = q;
      const { text: answer, tokens, finishReason } = reply;
      answers.push({ interpreter, question, questionKind, answer, tokens, finishReason });
    }
  }
  const t2 = performance.now();

  const evidence = await sideBySide(engine, model, codec, plan, progress, signal);
  return {
    answers,
    evidence,
    executionProvider: { name: model.info.provider.provider, reasons: [...model.info.provider.reasons] },
    loadMs: t1 - t0,
    interpretMs: t2 - t1,
    evidenceMs: performance.now() - t2,
  };
}

async function sideBySide(
  engine: Engine,
  model: ModelHandle,
  codec: TextCodec,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
): Promise<EvidenceSample[]> {
  const prompts = plan.evidencePrompts;
  if (prompts.length === 0) return [];
  const maxNewTokens = Math.min(plan.maxNewTokens ?? EVIDENCE_MAX_NEW_TOKENS, EVIDENCE_MAX_NEW_TOKENS);
  const tick = ticker(
    progress.span('evidence', 0.75, 0.99),
    [...prompts, ...prompts].map(() => maxNewTokens),
  );
  const answersOf = async (handle: ModelHandle, adapters: readonly string[], who: string) => {
    throwIfCancelled(signal);
    await unlessCancelled(handle.setAdapters(adapters), signal);
    const texts: string[] = [];
    for (const prompt of prompts) {
      const reply = await askModel(handle, codec, prompt, maxNewTokens, signal, tick(`${who}: ${prompt}`));
      texts.push(reply.text);
    }
    return texts;
  };
  // The diffed model first, so that the shared session is left with no adapters on it.
  const diffed = await answersOf(model, plan.diff, 'Finetune');
  const baseModel =
    plan.modelDir === plan.baseDir
      ? model
      : await unlessCancelled(engine.open(plan.baseDir, { provider: plan.provider }), signal);
  const base = await answersOf(baseModel, [], 'Base');
  return prompts.map((prompt, i) => ({ prompt, base: base[i], diffed: diffed[i] }));
}

/** The tokenizer and chat template: the model's own, else (a full finetune saved without them) the base's. */
async function chatCodec(modelDir: string, baseDir: string): Promise<TextCodec> {
  const codec = await loadTextCodec(existsSync(join(modelDir, 'tokenizer.json')) ? modelDir : baseDir);
  if (codec.chatTemplate === undefined) {
    throw new InputError(
      `${codec.dir} has no chat template (chat_template.jinja or tokenizer_config.json chat_template): DIT questions are asked as a chat turn`,
    );
  }
  return codec;
}

/**
 * Progress over a sequence of generations weighted by their token budgets: each call starts the
 * next generation and returns the per-token callback for it.
 */
function ticker(
  report: (message: string, part: number) => void,
  budgets: readonly number[],
): (message: string) => (generated: number) => void {
  const total = Math.max(
    1,
    budgets.reduce((a, b) => a + b, 0),
  );
  let before = 0;
  let index = 0;
  return (message) => {
    const start = before;
    before += budgets[index++] ?? 0;
    report(message, start / total);
    return (generated) => report(message, (start + generated) / total);
  };
}
