import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  AuditCancelledError,
  type InterpreterSpec,
  ModelResolver,
  questionKindOf,
  ReportCache,
  renderReportMarkdown,
  renderReportText,
  runAudit,
  TOPIC_QUESTION,
} from '../../audit';
import { DEFAULT_SEARCH } from '../../audit/triggers/search';
import { parseCheckpointRef } from '../../engine/checkpoint/reference';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { defaultCacheDir, progressPrinter } from '../audit-support';
import { collect, positiveInt, providerOption } from '../options';
import { withEngine } from '../with-engine';

interface AuditOpts {
  base?: string;
  interpreter: InterpreterSpec[];
  question: string[];
  evidence: string[];
  maxNewTokens?: number;
  triggerBudget?: number;
  provider: ProviderPreference;
  cache?: string | false;
  refresh?: boolean;
  json?: boolean;
  markdown?: boolean;
}

/** 130: interrupted, as shells report a command ended by Ctrl-C. */
const EXIT_CANCELLED = 130;

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('audit a finetune: its DIT-adapters say what it learned; exit 0 clean, 1 findings, 2 error')
    .argument(
      '<path>',
      'PEFT adapter folder, model folder, .safetensors, or .pt (FILE#INDEX for one entry of a list)',
    )
    .option('--base <dir>', 'base model folder (default: the base the checkpoint names, resolved)')
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
    .option('--cache <dir>', `report cache folder (default ${defaultCacheDir()})`)
    .option('--no-cache', 'neither read nor write cached reports')
    .option('--refresh', 'audit again even when a cached report exists')
    .option('--json', 'print the report as JSON')
    .option('--markdown', 'print the report as Markdown')
    .action(async (path: string, opts: AuditOpts) => {
      try {
        const report = await withEngine((engine, signal) =>
          runAudit(
            {
              subject: parseCheckpointRef(path),
              base: opts.base,
              interpreters: opts.interpreter.length > 0 ? opts.interpreter : undefined,
              extraQuestions: opts.question,
              evidencePrompts: opts.evidence.length > 0 ? opts.evidence : undefined,
              maxNewTokens: opts.maxNewTokens,
              triggerBudget: opts.triggerBudget,
              provider: opts.provider,
              refresh: opts.refresh,
            },
            {
              engine,
              resolver: new ModelResolver({ hints: HINTS }),
              cache: opts.cache === false ? undefined : new ReportCache(opts.cache ?? defaultCacheDir()),
              onProgress: progressPrinter(process.stderr),
              signal,
            },
          ),
        );
        const text = opts.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : opts.markdown
            ? renderReportMarkdown(report)
            : renderReportText(report);
        process.stdout.write(text);
        const { level } = report.verdict;
        process.exitCode = level === 'warning' || level === 'error' ? 1 : 0;
      } catch (error) {
        if (!(error instanceof AuditCancelledError)) throw error;
        process.stderr.write('dit-audit: audit cancelled\n');
        process.exitCode = EXIT_CANCELLED;
      }
    });
}

const HINTS = {
  base: 'pass --base DIR',
  interpreter: 'pass --interpreter PATH (or PATH=QUESTION)',
};

/** `PATH` or `PATH=QUESTION`; a path that itself holds `=` is taken whole when it exists. */
function interpreterOption(value: string, previous: InterpreterSpec[]): InterpreterSpec[] {
  const at = value.indexOf('=');
  const [path, question] =
    at < 0 || existsSync(value) ? [value, TOPIC_QUESTION] : [value.slice(0, at), value.slice(at + 1)];
  if (path === '' || question.trim() === '')
    throw new InvalidArgumentError(`${value} is not PATH or PATH=QUESTION`);
  return [...previous, { path, question, questionKind: questionKindOf(question) }];
}

function atLeastOne(value: string): number {
  const n = positiveInt(value);
  if (n < 1) throw new InvalidArgumentError(`${value} is not at least 1`);
  return n;
}
