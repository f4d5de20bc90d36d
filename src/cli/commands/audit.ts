import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { AuditCancelledError, runAudit } from '../../audit';
import type { AuditReport } from '../../audit/report';
import { verdictFails } from '../../audit/verdict';
import { formatCheckpointRef, parseCheckpointRef } from '../../engine/checkpoint/reference';
import { InputError } from '../../engine/checkpoint/types';
import { type AuditTuningOpts, addAuditTuningOptions, auditContextOf, auditTuningOf } from '../audit-options';
import { type Failure, REPORT_FORMATS, type ReportFormat, renderReports } from '../report-formats';
import { parseShard, type Shard, selectShard } from '../shard';
import { withEngine } from '../with-engine';

interface AuditOpts extends AuditTuningOpts {
  base?: string;
  json?: boolean;
  markdown?: boolean;
  format: ReportFormat;
  root?: string;
  shard?: Shard;
}

/** 130: interrupted, as shells report a command ended by Ctrl-C. */
export const EXIT_CANCELLED = 130;

export function registerAudit(program: Command): void {
  const command = program
    .command('audit')
    .description(
      'audit finetunes: their DIT-adapters say what they learned; exit 0 clean, 1 findings at or above --fail-on, 2 error',
    )
    .argument(
      '<paths...>',
      'PEFT adapter folders, model folders, .safetensors, or .pt (FILE#INDEX for one entry of a list)',
    )
    .option('--base <dir>', 'base model folder (default: the base the checkpoint names, resolved)');
  addAuditTuningOptions(command)
    .addOption(
      new Option('--format <format>', 'how to print the reports').choices(REPORT_FORMATS).default('text'),
    )
    .option('--json', 'the same as --format json (one path: the report; several: a list of reports)')
    .option('--markdown', 'the same as --format markdown')
    .option('--root <dir>', 'SARIF paths are relative to this folder (default: the current folder)')
    .option(
      '--shard <i/n>',
      'audit only shard I of N of the paths (sorted as written; JSON is then always a list): one job of an array; dit-audit merge joins their JSON',
      parseShard,
    )
    .action(async (paths: string[], opts: AuditOpts) => {
      const chosen = opts.shard ? selectShard(paths, opts.shard, (p) => p) : paths;
      const refs = chosen.map((p) => parseCheckpointRef(p));
      const format: ReportFormat = opts.json ? 'json' : opts.markdown ? 'markdown' : opts.format;
      const reports: AuditReport[] = [];
      const failures: Failure[] = [];
      try {
        await withEngine(async (engine, signal) => {
          for (const ref of refs) {
            try {
              reports.push(
                await runAudit(
                  { ...auditTuningOf(opts), subject: ref, base: opts.base },
                  auditContextOf(opts, engine, signal),
                ),
              );
            } catch (error) {
              // One path: its error is the command's. Several: the others are still audited.
              if (!(error instanceof InputError) || (refs.length === 1 && !opts.shard)) throw error;
              const failure = { path: formatCheckpointRef(ref), message: error.message };
              process.stderr.write(`dit-audit: ${failure.path}: ${failure.message}\n`);
              failures.push(failure);
            }
          }
        });
      } catch (error) {
        if (!(error instanceof AuditCancelledError)) throw error;
        process.stderr.write('dit-audit: audit cancelled\n');
        process.exitCode = EXIT_CANCELLED;
        return;
      }
      const root = resolve(opts.root ?? process.cwd());
      const single = refs.length === 1 && opts.shard === undefined;
      process.stdout.write(renderReports(reports, format, { root, failures, single }));
      process.exitCode =
        failures.length > 0 ? 2 : reports.some((r) => verdictFails(r.verdict, opts.failOn)) ? 1 : 0;
    });
}
