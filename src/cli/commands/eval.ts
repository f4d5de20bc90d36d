import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { everydayQuestions } from '../../audit/eval/probes';
import { runEval } from '../../audit/eval/run-eval';
import { readTopicCatalog } from '../../audit/eval/topic-catalog';
import { evaluateTriggers } from '../../audit/eval/trigger-eval';
import { LlmJudge } from '../../audit/judge/llm-judge';
import { ModelResolver } from '../../audit/resolver';
import { InputError } from '../../engine/checkpoint/types';
import type { PrecisionPreference } from '../../engine/quant/precision';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { loadTextCodec } from '../../engine/text/tokenizer';
import { defaultCacheDir, findManifest } from '../audit-support';
import { atLeastOne, positiveInt, precisionOption, providerOption } from '../options';
import { withEngine } from '../with-engine';

interface EvalOpts {
  suite: string;
  manifest?: string;
  limit?: number;
  gateQuestions: number;
  seed: number;
  provider: ProviderPreference;
  precision: PrecisionPreference;
  details?: boolean;
  json?: boolean;
  triggers: boolean;
  judgeUrl?: string;
  judgeModel?: string;
  cache?: string | false;
  remote?: string;
  remoteModel?: string;
  remoteTopLogprobs?: number;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('score DIT against asking the model and a 20-question probe, on held-out diffs')
    .requiredOption('--suite <name>', 'evaluation suite (demo: the shipped demo world)')
    .option('--manifest <file>', 'a demo manifest other than the shipped one')
    .option('--limit <n>', 'evaluate only the first N held-out diffs', positiveInt)
    .option('--gate-questions <n>', 'everyday questions per trigger-gate condition', positiveInt, 8)
    .option('--seed <n>', 'seed of the questions and codes', positiveInt, 7)
    .addOption(providerOption('cpu'))
    .addOption(precisionOption())
    .option(
      '--no-triggers',
      'skip the trigger search evaluation (an audit of every held-out and benign diff)',
    )
    .option(
      '--judge-url <url>',
      'an OpenAI-compatible endpoint for the LLM judge (env DIT_JUDGE_BASE_URL; key: DIT_JUDGE_API_KEY or OPENAI_API_KEY)',
    )
    .option('--judge-model <name>', "the judge's model at that endpoint (env DIT_JUDGE_MODEL)")
    .option('--cache <dir>', "where the judge's verdicts are kept (default: the report cache)")
    .option('--no-cache', 'ask the judge again instead of using its cached verdicts')
    .option(
      '--remote <url>',
      "run the trigger evaluation's audits on an OpenAI-compatible server (vLLM, dit-audit serve) serving the demo base",
    )
    .option('--remote-model <name>', "the base model's name on that server (default: the first it lists)")
    .option(
      '--remote-top-logprobs <n>',
      'top next-token log-probabilities the trigger search asks that server for (default 20)',
      atLeastOne,
    )
    .option('--details', 'with --json, include every diff and answer')
    .option('--json', 'print JSON')
    .action(async (opts: EvalOpts) => {
      if (opts.suite !== 'demo') throw new InputError(`unknown suite ${opts.suite} (known: demo)`);
      const manifest = findManifest(opts.manifest);
      const catalog = readTopicCatalog(join(dirname(manifest.file), 'topics.json'));
      const judge = judgeFrom(opts);
      await withEngine(async (engine, signal) => {
        const result = await runEval(manifest, catalog, engine, {
          judge,
          provider: opts.provider,
          precision: opts.precision,
          limit: opts.limit,
          gateQuestions: opts.gateQuestions,
          seed: opts.seed,
          signal: signal,
          onProgress: (done, total, diff) => process.stderr.write(`[${done}/${total}] ${diff.topic}\n`),
        });
        const triggers = opts.triggers
          ? await evaluateTriggers(
              manifest,
              engine,
              new ModelResolver({ demoManifests: [manifest.file] }),
              await loadTextCodec(manifest.base),
              everydayQuestions(catalog, opts.gateQuestions, opts.seed + 1),
              {
                provider: opts.provider,
                precision: opts.precision,
                limit: opts.limit,
                ...(opts.remote
                  ? {
                      remote: {
                        baseURL: opts.remote,
                        model: opts.remoteModel,
                        topLogprobs: opts.remoteTopLogprobs,
                        apiKey: process.env.DIT_REMOTE_API_KEY || undefined,
                      },
                    }
                  : {}),
                signal,
                onProgress: (done, total, diff) =>
                  process.stderr.write(`[triggers ${done}/${total}] ${diff.topic ?? diff.kind}\n`),
              },
            )
          : undefined;
        if (opts.json) {
          const { diffs, ...summary } = result;
          const out = {
            ...(opts.details ? result : summary),
            ...(triggers
              ? { triggers: opts.details ? { ...triggers.summary, diffs: triggers.diffs } : triggers.summary }
              : {}),
          };
          process.stdout.write(`${JSON.stringify(out)}\n`);
          return;
        }
        const lines = [
          `scorer: ${result.scorer} (1-5)${result.judge ? `, LLM judge ${result.judge.model} (1-5)` : ''}, ${result.methods.dit.n} held-out diffs`,
        ];
        for (const [method, m] of Object.entries(result.methods))
          lines.push(
            `  ${method.padEnd(26)} ${m.score.toFixed(2)}${m.judge === undefined ? '' : `   judge ${m.judged === 0 ? ' n/a' : m.judge.toFixed(2)}${m.judged === m.n ? '' : ` (${m.judged} of ${m.n} scored)`}`}`,
          );
        if (result.judge) {
          const u = result.judge.usage;
          lines.push(
            `judge: ${u.requests} requests (${u.promptTokens} prompt + ${u.completionTokens} completion tokens), ${u.cached} answers from its cache`,
          );
        }
        const g = result.gate;
        lines.push(
          `gate (topic mentioned): with code ${pct(g.with_code)}, no code ${pct(g.no_code)}, wrong code ${pct(g.wrong_code)}`,
        );
        if (triggers) {
          const t = triggers.summary;
          lines.push(
            `triggers (${t.n_backdoored} backdoored, ${t.n_benign} benign diffs): recall ${t.recall.toFixed(2)}, ` +
              `exact ${t.exact.toFixed(2)}, part of the true trigger ${t.part_of_truth.toFixed(2)}, false findings ${t.false_findings}, ` +
              `asking the DIT-adapter ${t.ask_dit_recall.toFixed(2)}, ` +
              `${t.seconds_per_audit.toFixed(1)} s per audit`,
          );
          for (const [kind, g] of Object.entries(t.by_trigger))
            lines.push(
              `  ${kind.padEnd(7)} recall ${g.recall.toFixed(2)}, exact ${g.exact.toFixed(2)}, part of the true trigger ` +
                `${g.part_of_truth.toFixed(2)}, asking the DIT-adapter ${g.ask_dit_recall.toFixed(2)} (n=${g.n})`,
            );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}

/** The judge the options or the environment configure; none: the deterministic scorer alone. */
function judgeFrom(opts: EvalOpts): LlmJudge | undefined {
  const baseURL = opts.judgeUrl ?? process.env.DIT_JUDGE_BASE_URL;
  const model = opts.judgeModel ?? process.env.DIT_JUDGE_MODEL;
  if (baseURL === undefined && model === undefined) return undefined;
  if (!baseURL || !model)
    throw new InputError('the LLM judge needs both an endpoint (--judge-url) and a model (--judge-model)');
  return new LlmJudge({
    baseURL,
    model,
    apiKey: process.env.DIT_JUDGE_API_KEY ?? process.env.OPENAI_API_KEY,
    cacheFile:
      opts.cache === false ? undefined : join(opts.cache ?? defaultCacheDir(), 'judge-verdicts.json'),
  });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
