// The part of an audit that runs models: each interpreter stacked on the diff answers its question
// (and the extra ones, and the paper's trigger question), the finetune and its base answer ordinary
// prompts side by side, and the trigger search looks for what brings the described behaviour out.
// The same run whether the models are on the local engine or on a server (audit-models.ts).
import type { DiffStatisticsData } from '../engine/analysis/diff-statistics';
import type { CheckpointRef } from '../engine/checkpoint/reference';
import type { PrecisionPreference } from '../engine/quant/precision';
import type { ProviderPreference } from '../engine/runtime/providers';
import type { AuditModels } from './audit-models';
import { throwIfCancelled } from './errors';
import type { ProgressTracker, SpanReporter } from './progress';
import {
  EVIDENCE_MAX_NEW_TOKENS,
  maxNewTokensFor,
  TRIGGER_QUESTION,
  TRIGGER_SEARCH_PROMPTS,
  TRIGGER_VERIFY_PROMPTS,
} from './questions';
import type {
  Answer,
  AuditReport,
  DiffStatistics,
  EvidenceSample,
  InterpreterIdentity,
  QuestionKind,
  SuspectedTrigger,
  TriggerSearch,
} from './report';
import { behaviourKeywords } from './triggers/behaviour';
import { findTriggers } from './triggers/find-triggers';
import type { SearchSettings } from './triggers/search';
import type { Side } from './triggers/trigger-models';

export interface ModelRunPlan {
  /** The folder whose weights are the model under audit: the base (a diff rides on it) or a full finetune. */
  readonly modelDir: string;
  readonly baseDir: string;
  /** The diff as adapters; empty for a full finetune. */
  readonly diff: readonly CheckpointRef[];
  /** False when the subject is its own base: no evidence, no statistics, no search. */
  readonly hasDiff: boolean;
  readonly interpreters: readonly InterpreterIdentity[];
  readonly extraQuestions: readonly string[];
  /** Empty: no evidence. */
  readonly evidencePrompts: readonly string[];
  readonly maxNewTokens?: number;
  readonly provider: ProviderPreference;
  readonly precision: PrecisionPreference;
  /** Null: no trigger search. */
  readonly search: SearchSettings | null;
}

export interface ModelRun {
  readonly answers: Answer[];
  readonly evidence: EvidenceSample[];
  readonly triggers: SuspectedTrigger[];
  readonly triggerSearch: TriggerSearch | null;
  readonly statistics: DiffStatistics | null;
  readonly executionProvider: NonNullable<AuditReport['executionProvider']>;
  readonly loadMs: number;
  readonly interpretMs: number;
  readonly evidenceMs: number;
  readonly triggerMs: number;
}

export interface Question {
  readonly interpreter: number;
  readonly question: string;
  readonly questionKind: QuestionKind;
  readonly maxNewTokens: number;
}

export async function runModels(
  open: () => Promise<AuditModels>,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
): Promise<ModelRun> {
  const t0 = performance.now();
  progress.report('load', `Loading ${plan.modelDir}`, 0.2);
  const models = await open();
  let run: ModelRun;
  try {
    run = await runOn(models, plan, progress, signal, performance.now() - t0);
  } catch (error) {
    // What went wrong (a cancellation, a dead worker) is what the caller hears, not the tidy-up.
    await models.close().catch(() => undefined);
    throw error;
  }
  await models.close();
  return run;
}

async function runOn(
  models: AuditModels,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
  loadMs: number,
): Promise<ModelRun> {
  const t1 = performance.now();
  const questions = questionsOf(plan);
  const described = plan.search ? questions.filter((q) => q.questionKind !== 'trigger') : [];
  const interpretTick = ticker(
    progress.span('interpret', 0.25, 0.5),
    [...questions, ...described].map((q) => q.maxNewTokens),
  );
  const answers: Answer[] = [];
  const ask = (side: Side, extra: readonly CheckpointRef[], q: Question, message: string) => {
    throwIfCancelled(signal);
    return models.ask(side, extra, q.question, q.maxNewTokens, signal, interpretTick(message));
  };
  for (const q of questions) {
    const interp = plan.interpreters[q.interpreter];
    const reply = await ask('diffed', [{ path: interp.path }], q, `Asking ${interp.name}: ${q.question}`);
    const { interpreter, question, questionKind } = q;
    const { text: answer, tokens, finishReason } = reply;
    answers.push({ interpreter, question, questionKind, answer, tokens, finishReason });
  }
  // The interpreter on the base alone: what it says when there is no diff to read.
  const withoutDiff: string[] = [];
  for (const q of described) {
    const interp = plan.interpreters[q.interpreter];
    withoutDiff.push(
      (await ask('base', [{ path: interp.path }], q, `Asking ${interp.name} with no diff`)).text,
    );
  }
  const t2 = performance.now();

  const evidence = await sideBySide(models, plan, progress, signal);
  const t3 = performance.now();

  let statistics: DiffStatistics | null = null;
  let found: Awaited<ReturnType<typeof findTriggers>> | null = null;
  if (plan.hasDiff) {
    progress.report('triggers', 'Reading the diff’s weights', 0.75);
    const analysis = await models.analyse(signal);
    statistics = summarise(analysis.statistics);
    if (plan.search) {
      const descriptions = answers.filter((a) => a.questionKind !== 'trigger').map((a) => a.answer);
      found = await findTriggers(
        {
          models: models.triggers,
          codec: models.codec,
          keywords: behaviourKeywords(
            descriptions,
            withoutDiff,
            questions.map((q) => q.question),
          ),
          prior: analysis.prior,
          baselineAnswer: answers.find((a) => a.questionKind === 'trigger')?.answer,
          settings: plan.search,
          searchPrompts: TRIGGER_SEARCH_PROMPTS,
          verifyPrompts: TRIGGER_VERIFY_PROMPTS,
        },
        progress.span('triggers', 0.76, 0.99),
        signal,
      );
    }
  }
  return {
    answers,
    evidence,
    triggers: found?.triggers ?? [],
    triggerSearch: found?.search ?? null,
    statistics,
    executionProvider: models.executionProvider,
    loadMs,
    interpretMs: t2 - t1,
    evidenceMs: t3 - t2,
    triggerMs: performance.now() - t3,
  };
}

/** Each interpreter's own question, the extra ones, and (when searching) the paper's trigger question. */
export function questionsOf(plan: ModelRunPlan): Question[] {
  return plan.interpreters
    .flatMap((interp, interpreter) => [
      { interpreter, question: interp.question, questionKind: interp.questionKind },
      ...plan.extraQuestions.map((question) => ({ interpreter, question, questionKind: 'custom' as const })),
      ...(plan.search && plan.hasDiff && interpreter === 0 && interp.question !== TRIGGER_QUESTION
        ? [{ interpreter, question: TRIGGER_QUESTION, questionKind: 'trigger' as const }]
        : []),
    ])
    .map((q) => ({ ...q, maxNewTokens: maxNewTokensFor(q.questionKind, plan.maxNewTokens) }));
}

function summarise(data: DiffStatisticsData): DiffStatistics {
  const cells = data.cells.map((c) => ({ ...c, topSingularValues: [...c.topSingularValues] }));
  return {
    source: data.source,
    layers: data.layers,
    cells,
    frobeniusNorm: Math.sqrt(cells.reduce((s, c) => s + c.frobeniusNorm ** 2, 0)),
    maxRank: cells.reduce((r, c) => Math.max(r, c.rank), 0),
  };
}

async function sideBySide(
  models: AuditModels,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
): Promise<EvidenceSample[]> {
  const prompts = plan.evidencePrompts;
  if (prompts.length === 0) return [];
  const maxNewTokens = Math.min(plan.maxNewTokens ?? EVIDENCE_MAX_NEW_TOKENS, EVIDENCE_MAX_NEW_TOKENS);
  const tick = ticker(
    progress.span('evidence', 0.5, 0.75),
    [...prompts, ...prompts].map(() => maxNewTokens),
  );
  const answersOf = async (side: Side, who: string) => {
    const texts: string[] = [];
    for (const [i, prompt] of prompts.entries()) {
      throwIfCancelled(signal);
      const message = `${who}, prompt ${i + 1} of ${prompts.length}: ${prompt}`;
      const reply = await models.ask(side, [], prompt, maxNewTokens, signal, tick(message));
      texts.push(reply.text);
    }
    return texts;
  };
  const diffedAnswers = await answersOf('diffed', 'Finetune');
  const baseAnswers = await answersOf('base', 'Base');
  return prompts.map((prompt, i) => ({ prompt, base: baseAnswers[i], diffed: diffedAnswers[i] }));
}

/**
 * Progress over a sequence of generations weighted by their token budgets: each call starts the
 * next generation and returns the per-token callback for it.
 */
function ticker(
  report: SpanReporter,
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
    before += budgets[index] ?? 0;
    index = Math.min(index + 1, budgets.length);
    const step = { index, count: budgets.length };
    report(message, start / total, step);
    return (generated) => report(message, (start + generated) / total, step);
  };
}
