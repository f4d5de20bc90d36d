// `dit-audit merge`: the JSON of several audit jobs (shards, or audits run anywhere) as one set of
// reports, printed in any format and judged by one --fail-on, as a single audit of all would be.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { type AuditReport, parseReport } from '../../audit/report';
import { FAIL_LEVELS, type FailLevel, verdictFails } from '../../audit/verdict';
import { formatCheckpointRef } from '../../engine/checkpoint/reference';
import { InputError } from '../../engine/checkpoint/types';
import { REPORT_FORMATS, type ReportFormat, renderReports } from '../report-formats';

interface MergeOpts {
  format: ReportFormat;
  failOn: FailLevel;
  root?: string;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the JSON reports of several audits (e.g. --shard jobs) and print them as one')
    .argument('<files...>', 'JSON written by dit-audit audit --json (a report or a list of reports)')
    .addOption(
      new Option('--format <format>', 'how to print the reports').choices(REPORT_FORMATS).default('json'),
    )
    .addOption(
      new Option('--fail-on <level>', 'exit 1 when a verdict is at or above this level')
        .choices(FAIL_LEVELS)
        .default('warning'),
    )
    .option('--root <dir>', 'SARIF paths are relative to this folder (default: the current folder)')
    .action((files: string[], opts: MergeOpts) => {
      const read = files.flatMap((file) => readReports(file).map((report) => ({ report, file })));
      const key = (r: AuditReport) => formatCheckpointRef({ path: r.subject.path, entry: r.subject.entry });
      const seen = new Map<string, string>();
      for (const { report, file } of read) {
        const other = seen.get(key(report));
        if (other !== undefined)
          throw new InputError(`${key(report)} is reported twice (in ${other} and ${file})`);
        seen.set(key(report), file);
      }
      const reports = read.map((r) => r.report);
      reports.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      const root = resolve(opts.root ?? process.cwd());
      process.stdout.write(renderReports(reports, opts.format, { root, failures: [], single: false }));
      process.exitCode = reports.some((r) => verdictFails(r.verdict, opts.failOn)) ? 1 : 0;
    });
}

function readReports(file: string): AuditReport[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file}: ${e instanceof SyntaxError ? 'not JSON' : (e as Error).message}`);
  }
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    try {
      return parseReport(item);
    } catch (e) {
      throw new InputError(`${file}${Array.isArray(value) ? ` [${i}]` : ''}: ${(e as Error).message}`);
    }
  });
}
