import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { runEval } from '../../audit/eval/run-eval';
import { readTopicCatalog } from '../../audit/eval/topic-catalog';
import { InputError } from '../../engine/checkpoint/types';
import type { ProviderPreference } from '../../engine/runtime/ort-session';
import { findManifest } from '../audit-support';
import { positiveInt, provider } from '../options';
import { withEngine } from '../with-engine';

interface EvalOpts {
  suite: string;
  manifest?: string;
  limit?: number;
  gateQuestions: number;
  seed: number;
  provider: ProviderPreference;
  details?: boolean;
  json?: boolean;
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
    .option('--provider <ep>', 'execution provider: auto, cuda, webgpu, cpu', provider, 'cpu')
    .option('--details', 'with --json, include every diff and answer')
    .option('--json', 'print JSON')
    .action(async (opts: EvalOpts) => {
      if (opts.suite !== 'demo') throw new InputError(`unknown suite ${opts.suite} (known: demo)`);
      const manifest = findManifest(opts.manifest);
      const catalog = readTopicCatalog(join(dirname(manifest.file), 'topics.json'));
      await withEngine(async (engine, signal) => {
        const result = await runEval(manifest, catalog, engine, {
          provider: opts.provider,
          limit: opts.limit,
          gateQuestions: opts.gateQuestions,
          seed: opts.seed,
          signal: signal,
          onProgress: (done, total, diff) => process.stderr.write(`[${done}/${total}] ${diff.topic}\n`),
        });
        if (opts.json) {
          const { diffs, ...summary } = result;
          process.stdout.write(`${JSON.stringify(opts.details ? result : summary)}\n`);
          return;
        }
        const lines = [`scorer: ${result.scorer} (1-5), ${result.methods.dit.n} held-out diffs`];
        for (const [method, m] of Object.entries(result.methods))
          lines.push(`  ${method.padEnd(26)} ${m.score.toFixed(2)}`);
        const g = result.gate;
        lines.push(
          `gate (topic mentioned): with code ${pct(g.with_code)}, no code ${pct(g.no_code)}, wrong code ${pct(g.wrong_code)}`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
