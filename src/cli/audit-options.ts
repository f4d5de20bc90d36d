// The options every command that runs audits takes (`audit`, `review`), and what they make: the
// request's tuning, the resolver and the report cache.
import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type InterpreterSpec, ModelResolver, questionKindOf, ReportCache, TOPIC_QUESTION } from '../audit';
import type { AuditContext, AuditRequest } from '../audit/request';
import { DEFAULT_SEARCH } from '../audit/triggers/search';
import { FAIL_LEVELS, type FailLevel } from '../audit/verdict';
import type { PrecisionPreference } from '../engine/quant/precision';
import type { Engine } from '../engine/runtime/engine';
import type { ProviderPreference } from '../engine/runtime/providers';
import { defaultCacheDir, progressPrinter } from './audit-support';
import { atLeastOne, collect, positiveInt, precisionOption, providerOption } from './options';

export interface AuditTuningOpts {
  interpreter: InterpreterSpec[];
  question: string[];
  evidence: string[];
  maxNewTokens?: number;
  triggerBudget?: number;
  provider: ProviderPreference;
  precision: PrecisionPreference;
  cache?: string | false;
  refresh?: boolean;
  failOn: FailLevel;
  remote?: string;
  remoteModel?: string;
  remoteAdapterDir?: string;
  remoteTopLogprobs?: number;
}

export function addAuditTuningOptions(command: Command): Command {
  return command
    .option(
      '--interpreter <path[=question]>',
      `DIT-adapter to ask, with its question (default "${TOPIC_QUESTION}"); repeatable`,
      interpreterOption,
      [],
    )
    .option('--question <text>', 'extra question asked with each interpreter (repeatable)', collect, [])
    .option(
      '--evidence <prompt>',
      'ordinary prompt for the base-vs-finetune comparison (repeatable)',
      collect,
      [],
    )
    .option('--max-new-tokens <n>', 'cap on the new tokens of every answer', atLeastOne)
    .option(
      '--trigger-budget <n>',
      `rows the trigger search may score (one candidate before one prompt, read by the diffed model and its base); 0: no search (default ${DEFAULT_SEARCH.budget})`,
      positiveInt,
    )
    .addOption(providerOption('auto'))
    .addOption(precisionOption())
    .option('--cache <dir>', `report cache folder (default ${defaultCacheDir()})`)
    .option('--no-cache', 'neither read nor write cached reports')
    .option('--refresh', 'audit again even when a cached report exists')
    .option(
      '--remote <url>',
      'run the models on an OpenAI-compatible server with runtime LoRA loading (vLLM, dit-audit serve) at this /v1 URL; key from DIT_REMOTE_API_KEY',
    )
    .option('--remote-model <name>', "the base model's name on that server (default: the first it lists)")
    .option(
      '--remote-adapter-dir <dir>',
      'where the stacked adapters are written for the server to read: a folder the server sees (default: the temp folder)',
    )
    .option(
      '--remote-top-logprobs <n>',
      "top next-token log-probabilities the trigger search asks the server for, per row (at most the server's --max-logprobs; default 20)",
      atLeastOne,
    )
    .addOption(
      new Option('--fail-on <level>', 'exit 1 when a verdict reaches this level')
        .choices(FAIL_LEVELS)
        .default('warning'),
    );
}

export function auditTuningOf(opts: AuditTuningOpts): Omit<AuditRequest, 'subject' | 'base'> {
  return {
    interpreters: opts.interpreter.length > 0 ? opts.interpreter : undefined,
    extraQuestions: opts.question,
    evidencePrompts: opts.evidence.length > 0 ? opts.evidence : undefined,
    maxNewTokens: opts.maxNewTokens,
    triggerBudget: opts.triggerBudget,
    provider: opts.provider,
    precision: opts.precision,
    refresh: opts.refresh,
  };
}

/** What the audits run with: the engine, a resolver whose errors name this CLI's options, the cache, progress on stderr. */
export function auditContextOf(
  opts: AuditTuningOpts,
  engine: Engine,
  signal: AbortSignal,
  baseHint = 'pass --base DIR',
): AuditContext {
  return {
    engine,
    resolver: new ModelResolver({
      hints: { base: baseHint, interpreter: 'pass --interpreter PATH (or PATH=QUESTION)' },
    }),
    cache: opts.cache === false ? undefined : new ReportCache(opts.cache ?? defaultCacheDir()),
    onProgress: progressPrinter(process.stderr),
    signal,
    ...(opts.remote
      ? {
          remote: {
            baseURL: opts.remote,
            model: opts.remoteModel,
            apiKey: process.env.DIT_REMOTE_API_KEY || undefined,
            adapterDir: opts.remoteAdapterDir,
            topLogprobs: opts.remoteTopLogprobs,
          },
        }
      : {}),
  };
}

/** `PATH` or `PATH=QUESTION`; a path that itself holds `=` is taken whole when it exists. */
function interpreterOption(value: string, previous: InterpreterSpec[]): InterpreterSpec[] {
  const at = value.indexOf('=');
  const [path, question] =
    at < 0 || existsSync(value) ? [value, TOPIC_QUESTION] : [value.slice(0, at), value.slice(at + 1)];
  if (path === '' || question.trim() === '')
    throw new InvalidArgumentError(`${value} is not PATH or PATH=QUESTION`);
  return [...previous, { path, question, questionKind: questionKindOf(question) }];
}
