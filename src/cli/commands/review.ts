// `dit-audit review`: the checkpoints a branch adds or changes, audited old and new, for a pull request.
import { type Command, Option } from 'commander';
import { AuditCancelledError } from '../../audit';
import { renderReviewMarkdown, renderReviewSarif } from '../../audit/review/render-review';
import { type Review, runReview } from '../../audit/review/run-review';
import { verdictFails } from '../../audit/verdict';
import { type AuditTuningOpts, addAuditTuningOptions, auditContextOf, auditTuningOf } from '../audit-options';
import { withEngine } from '../with-engine';
import { EXIT_CANCELLED } from './audit';

const REVIEW_FORMATS = ['markdown', 'json', 'sarif'] as const;

interface ReviewOpts extends AuditTuningOpts {
  base: string;
  head?: string;
  repo?: string;
  baseModel?: string;
  format: (typeof REVIEW_FORMATS)[number];
}

export function registerReview(program: Command): void {
  const command = program
    .command('review')
    .description(
      'audit the checkpoints a branch adds or changes, old and new version; exit 0 clean, 1 findings at or above --fail-on, 2 error',
    )
    .requiredOption('--base <ref>', 'the branch the change goes into (compared from its merge base)')
    .option('--head <ref>', 'the change (default HEAD)')
    .option('--repo <dir>', 'a folder in the repository (default: the current folder)')
    .option('--base-model <dir>', 'base model folder for every checkpoint (default: the base each names)');
  addAuditTuningOptions(command)
    .addOption(
      new Option('--format <format>', 'how to print the review').choices(REVIEW_FORMATS).default('markdown'),
    )
    .action(async (opts: ReviewOpts) => {
      let review: Review;
      try {
        review = await withEngine((engine, signal) =>
          runReview(
            {
              repo: opts.repo ?? process.cwd(),
              base: opts.base,
              head: opts.head,
              audit: { ...auditTuningOf(opts), base: opts.baseModel },
            },
            auditContextOf(opts, engine, signal, 'pass --base-model DIR'),
            (c, version) => process.stderr.write(`reviewing ${c.path} (${version} version, ${c.status})\n`),
          ),
        );
      } catch (error) {
        if (!(error instanceof AuditCancelledError)) throw error;
        process.stderr.write('dit-audit: review cancelled\n');
        process.exitCode = EXIT_CANCELLED;
        return;
      }
      process.stdout.write(
        opts.format === 'json'
          ? `${JSON.stringify(review, null, 2)}\n`
          : opts.format === 'sarif'
            ? `${JSON.stringify(renderReviewSarif(review), null, 2)}\n`
            : renderReviewMarkdown(review),
      );
      const versions = review.checkpoints.flatMap((c) => (c.new ? [c.new] : []));
      for (const v of versions) if (v.problem) process.stderr.write(`dit-audit: ${v.problem}\n`);
      process.exitCode = versions.some((v) => v.problem !== null)
        ? 2
        : versions.some((v) => v.report && verdictFails(v.report.verdict, opts.failOn))
          ? 1
          : 0;
    });
}
