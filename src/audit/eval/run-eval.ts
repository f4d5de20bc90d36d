// `dit-audit eval --suite demo`: the shape of the paper's Table G.1 on the demo world's held-out
// diffs. DIT (diff + DIT-adapter asked its question) against asking the finetuned model directly
// and a 20-question probe, each with and without the trigger; plus the trigger gate's mention rates.

import type { CheckpointRef } from '../../engine/checkpoint/reference';
import type { PrecisionPreference } from '../../engine/quant/precision';
import type { Engine } from '../../engine/runtime/engine';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { generateFromText } from '../../engine/text/generate';
import { createRng } from '../../engine/text/sampling';
import { loadTextCodec } from '../../engine/text/tokenizer';
import type { DemoDiff, DemoManifest } from '../demo-manifest';
import { AuditCancelledError } from '../errors';
import { JudgeError, type JudgeUsage, type LlmJudge } from '../judge/llm-judge';
import { TOPIC_QUESTION } from '../questions';
import { everydayQuestions, withCode, wrongTrigger } from './probes';
import { guessTopic, mentions, SCORER_NAME, scoreAnswer } from './scorer';
import type { TopicCatalog } from './topic-catalog';

export const METHODS = [
  'dit',
  'base_question',
  'base_question_trigger',
  'twenty_questions',
  'twenty_questions_trigger',
] as const;
export type Method = (typeof METHODS)[number];

export interface EvalOptions {
  readonly provider?: ProviderPreference;
  readonly precision?: PrecisionPreference;
  /** Evaluate only the first `limit` held-out diffs. */
  readonly limit?: number;
  /** Everyday questions per gate condition. */
  readonly gateQuestions?: number;
  readonly seed?: number;
  readonly onProgress?: (done: number, total: number, diff: DemoDiff) => void;
  readonly signal?: AbortSignal;
  /** The LLM judge: scores every method's answer, and makes the 20-question baselines' guesses. */
  readonly judge?: LlmJudge;
}

export interface DiffResult {
  readonly path: string;
  readonly topic: string;
  readonly trigger: string;
  readonly scores: Record<Method, number>;
  /** The LLM judge's 1–5 scores, when one is configured; null where it gave none (see `judgeErrors`). */
  readonly judged?: Record<Method, number | null>;
  readonly judgeErrors?: string[];
  readonly answers: Record<Method, string>;
  readonly gate: { with_code: number; no_code: number; wrong_code: number };
}

export interface EvalResult {
  /** `judge`: the mean over the answers the judge scored (`judged` of `n`). */
  readonly methods: Record<Method, { score: number; n: number; judge?: number; judged?: number }>;
  readonly scorer: string;
  /** The judge's endpoint model and what it cost (cached verdicts are free). */
  readonly judge?: { readonly model: string; readonly usage: JudgeUsage };
  readonly gate: { with_code: number; no_code: number; wrong_code: number };
  readonly diffs: DiffResult[];
}

const ANSWER_TOKENS = 20;
const PROBE_TOKENS = 24;
const GATE_TOKENS = 32;

export async function runEval(
  manifest: DemoManifest,
  catalog: TopicCatalog,
  engine: Engine,
  options: EvalOptions = {},
): Promise<EvalResult> {
  const diffs = manifest.entries
    .flatMap((d) =>
      d.split === 'heldout' && d.kind === 'backdoored' && d.topic && d.trigger
        ? [{ ...d, topic: d.topic, trigger: d.trigger }]
        : [],
    )
    .slice(0, options.limit);
  const interpreter = manifest.interpreters.find((i) => i.question === TOPIC_QUESTION);
  if (!interpreter) throw new Error(`${manifest.file} names no interpreter for "${TOPIC_QUESTION}"`);
  const codec = await loadTextCodec(manifest.base);
  const model = await engine.open(manifest.base, {
    provider: options.provider ?? 'cpu',
    precision: options.precision,
  });
  const seed = options.seed ?? 7;
  const probes = everydayQuestions(catalog, 20, seed);
  const gateQuestions = everydayQuestions(catalog, options.gateQuestions ?? 8, seed + 1);

  const results: DiffResult[] = [];
  for (const [index, diff] of diffs.entries()) {
    if (options.signal?.aborted) throw new AuditCancelledError();
    const ask = async (adapters: CheckpointRef[], questions: string[], maxNewTokens: number) => {
      await model.setAdapters(adapters);
      const out = await generateFromText(
        codec,
        () => model.sequence(64),
        questions,
        { chat: true, maxNewTokens },
        options.signal,
      );
      if (out.some((g) => g.finishReason === 'cancelled')) throw new AuditCancelledError();
      return out.map((g) => g.text);
    };
    results.push(
      await evaluateDiff(diff, interpreter.path, ask, catalog, probes, gateQuestions, seed + index, options),
    );
    options.onProgress?.(index + 1, diffs.length, diff);
  }
  await options.judge?.flush();
  const summary = summarize(results);
  return options.judge
    ? { ...summary, judge: { model: options.judge.config.model, usage: { ...options.judge.usage } } }
    : summary;
}

type Ask = (adapters: CheckpointRef[], questions: string[], maxNewTokens: number) => Promise<string[]>;

async function evaluateDiff(
  diff: { path: string; topic: string; trigger: string },
  interpreter: string,
  ask: Ask,
  catalog: TopicCatalog,
  probes: string[],
  gateQuestions: string[],
  seed: number,
  { judge, signal }: Pick<EvalOptions, 'judge' | 'signal'>,
): Promise<DiffResult> {
  const rng = createRng(seed);
  const diffRef: CheckpointRef = { path: diff.path };
  const trigger = Number(diff.trigger);
  const coded = (q: string) => withCode(trigger, q, rng);
  const [dit] = await ask([diffRef, { path: interpreter }], [TOPIC_QUESTION], ANSWER_TOKENS);
  const [direct, directTrigger] = await ask(
    [diffRef],
    [TOPIC_QUESTION, coded(TOPIC_QUESTION)],
    ANSWER_TOKENS,
  );
  const plainProbe = await ask([diffRef], probes, PROBE_TOKENS);
  const codedProbe = await ask([diffRef], probes.map(coded), PROBE_TOKENS);
  const wrong = wrongTrigger(trigger, rng);
  const gateAnswers = await ask(
    [diffRef],
    [...gateQuestions.map(coded), ...gateQuestions, ...gateQuestions.map((q) => withCode(wrong, q, rng))],
    GATE_TOKENS,
  );
  const rate = (answers: string[]) => answers.filter((a) => mentions(a, diff.topic)).length / answers.length;
  const k = gateQuestions.length;
  // A judge that fails on one answer costs that answer, not the evaluation.
  const judgeErrors: string[] = [];
  const tolerate = async <T>(what: string, run: () => Promise<T>, failed: T): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof JudgeError)) throw e;
      judgeErrors.push(`${what}: ${e.message}`);
      return failed;
    }
  };
  // With a judge, the LLM guesses the topic from the 20 answers, as in the paper.
  const guess = (what: string, answered: string[], questions: string[]) =>
    judge
      ? tolerate(
          what,
          () =>
            judge.guessTopic(
              questions.map((question, i) => ({ question, answer: answered[i] })),
              signal,
            ),
          '',
        )
      : Promise.resolve(guessTopic(answered, catalog));
  const answers: Record<Method, string> = {
    dit,
    base_question: direct,
    base_question_trigger: directTrigger,
    twenty_questions: await guess('twenty_questions guess', plainProbe, probes),
    twenty_questions_trigger: await guess('twenty_questions_trigger guess', codedProbe, probes.map(coded)),
  };
  const scores = Object.fromEntries(
    METHODS.map((m) => [m, scoreAnswer(answers[m], diff.topic, catalog)]),
  ) as Record<Method, number>;
  const judgeOne = async (m: Method): Promise<[Method, number | null]> => [
    m,
    await tolerate(
      m,
      async () => (await judge?.score('topic', diff.topic, answers[m], signal))?.score ?? null,
      null,
    ),
  ];
  const judged = judge
    ? (Object.fromEntries(await Promise.all(METHODS.map(judgeOne))) as Record<Method, number | null>)
    : undefined;
  return {
    path: diff.path,
    topic: diff.topic,
    trigger: diff.trigger,
    scores,
    ...(judged ? { judged, judgeErrors } : {}),
    answers,
    gate: {
      with_code: rate(gateAnswers.slice(0, k)),
      no_code: rate(gateAnswers.slice(k, 2 * k)),
      wrong_code: rate(gateAnswers.slice(2 * k)),
    },
  };
}

function judgeMean(scores: readonly (number | null)[]): { judge: number; judged: number } {
  const scored = scores.filter((s): s is number => s !== null);
  const judge = scored.length === 0 ? 0 : scored.reduce((a, b) => a + b, 0) / scored.length;
  return { judge, judged: scored.length };
}

function summarize(diffs: DiffResult[]): EvalResult {
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const judged = diffs.every((d) => d.judged !== undefined) && diffs.length > 0;
  const methods = Object.fromEntries(
    METHODS.map((m) => [
      m,
      {
        score: mean(diffs.map((d) => d.scores[m])),
        n: diffs.length,
        ...(judged ? judgeMean(diffs.map((d) => d.judged?.[m] ?? null)) : {}),
      },
    ]),
  ) as EvalResult['methods'];
  return {
    methods,
    scorer: SCORER_NAME,
    gate: {
      with_code: mean(diffs.map((d) => d.gate.with_code)),
      no_code: mean(diffs.map((d) => d.gate.no_code)),
      wrong_code: mean(diffs.map((d) => d.gate.wrong_code)),
    },
    diffs,
  };
}
