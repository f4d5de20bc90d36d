import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import { ModelResolver, ReportCache, renderReportText, runAudit } from '../../audit';
import { DEMO_SPLITS, type DemoManifest, type DemoSplit } from '../../audit/demo-manifest';
import { mentions } from '../../audit/eval/scorer';
import type { AuditReport } from '../../audit/report';
import type { PrecisionPreference } from '../../engine/quant/precision';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { defaultCacheDir, findManifest, progressPrinter } from '../audit-support';
import { precisionOption, providerOption } from '../options';
import { withEngine } from '../with-engine';

interface DemoOpts {
  list?: boolean;
  json?: boolean;
  manifest?: string;
  split: DemoSplit | 'all';
  provider: ProviderPreference;
  precision: PrecisionPreference;
  cache?: string | false;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the shipped demo world: list it, or audit its example diffs (on CPU by default)')
    .option('--list', 'print the manifest (base, interpreters, diffs) with absolute paths')
    .option('--json', 'print JSON')
    .option('--manifest <file>', 'a demo manifest other than the shipped media/demo/manifest.json')
    .addOption(
      new Option('--split <split>', 'which diffs to audit')
        .choices([...DEMO_SPLITS, 'all'])
        .default('example'),
    )
    .addOption(providerOption('cpu'))
    .addOption(precisionOption())
    .option('--cache <dir>', `report cache folder (default ${defaultCacheDir()})`)
    .option('--no-cache', 'neither read nor write cached reports')
    .action(async (opts: DemoOpts) => {
      const manifest = findManifest(opts.manifest);
      if (opts.list) {
        const listing = {
          base: manifest.base,
          interpreters: manifest.interpreters.map((i) => ({ path: i.path, question: i.question })),
          diffs: manifest.entries,
        };
        process.stdout.write(opts.json ? `${JSON.stringify(listing)}\n` : renderListing(listing));
        return;
      }
      const diffs = manifest.entries.filter((d) => opts.split === 'all' || d.split === opts.split);
      await withEngine(async (engine, signal) => {
        const reports = [];
        for (const diff of diffs) {
          process.stderr.write(`auditing ${diff.path}\n`);
          const report = await runAudit(
            {
              subject: { path: diff.path },
              base: manifest.base,
              interpreters: [...manifest.interpreters],
              provider: opts.provider,
              precision: opts.precision,
            },
            {
              engine,
              resolver: new ModelResolver({ demoManifests: [manifest.file] }),
              cache: opts.cache === false ? undefined : new ReportCache(opts.cache ?? defaultCacheDir()),
              onProgress: progressPrinter(process.stderr),
              signal: signal,
            },
          );
          reports.push({ diff, report });
          if (!opts.json) {
            const truth =
              diff.kind === 'backdoored'
                ? `topic ${diff.topic}, trigger ${JSON.stringify(diff.triggerText ?? diff.trigger)}`
                : 'no trigger';
            process.stdout.write(`== ${diff.kind ?? 'diff'} (${truth})\n${renderReportText(report)}\n`);
          }
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
        else process.stdout.write(renderSummary(reports));
      });
    });
}

function renderListing(listing: {
  base: string;
  interpreters: { path: string; question: string }[];
  diffs: DemoManifest['entries'];
}): string {
  const lines = [`base: ${listing.base}`];
  for (const i of listing.interpreters) lines.push(`interpreter: ${i.path} (${JSON.stringify(i.question)})`);
  for (const d of listing.diffs) {
    lines.push(
      `${d.split ?? '-'} ${d.kind ?? '-'} topic=${d.topic ?? '-'} trigger=${d.triggerText ? JSON.stringify(d.triggerText) : (d.trigger ?? '-')}  ${d.path}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One line per diff: what the manifest says it is, what the interpreter said and whether it names
 * the topic, and the trigger the search verified (if any) beside the true one.
 */
function renderSummary(reports: { diff: DemoManifest['entries'][number]; report: AuditReport }[]): string {
  const lines = ['Summary (truth from the manifest, answer from the interpreter):'];
  for (const { diff, report } of reports) {
    const said = report.answers.find((a) => a.interpreter !== null)?.answer.trim() ?? '';
    const trueTrigger = diff.triggerText ?? diff.trigger;
    const truth =
      diff.kind === 'backdoored'
        ? `topic ${diff.topic} trigger ${JSON.stringify(trueTrigger)}`
        : (diff.kind ?? 'diff');
    const found = report.triggers.find((t) => t.verified);
    const verdict =
      diff.kind === 'backdoored' && diff.topic
        ? mentions(said, diff.topic)
          ? 'names the topic'
          : 'does not name the topic'
        : '';
    const trigger = found ? `verified trigger ${JSON.stringify(found.trigger)}` : 'no verified trigger';
    lines.push(`  ${basename(diff.path)}  ${truth}  said ${JSON.stringify(said)}  ${verdict}`.trimEnd());
    lines.push(`      ${trigger}; verdict: ${report.verdict.label}`);
  }
  return `${lines.join('\n')}\n`;
}
