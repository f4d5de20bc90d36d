import type { Command } from 'commander';
import type { CheckpointRef } from '../../engine/checkpoint/reference';
import { forwardTrace } from '../../engine/forward';
import type { PrecisionPreference } from '../../engine/quant/precision';
import { ADAPTER_OPTION, positiveInt, precisionOption, providerOption, tokenIdList } from '../options';
import { withEngine } from '../with-engine';

export function registerForward(program: Command): void {
  program
    .command('forward')
    .description('logits of a prompt (prefill rows), then of K greedy steps through the KV cache')
    .requiredOption('--model <dir>', 'model folder (config.json + safetensors)')
    .option(ADAPTER_OPTION.flags, ADAPTER_OPTION.description, ADAPTER_OPTION.parse, [])
    .requiredOption('--ids <ids>', 'prompt token ids, comma-separated', tokenIdList)
    .option('--steps <k>', 'greedy steps after the prompt', positiveInt, 0)
    .addOption(providerOption('auto'))
    .addOption(precisionOption())
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        model: string;
        adapter: CheckpointRef[];
        ids: number[];
        steps: number;
        provider: 'auto';
        precision: PrecisionPreference;
        json?: boolean;
      }) => {
        await withEngine(async (engine) => {
          const model = await engine.open(opts.model, {
            provider: opts.provider,
            precision: opts.precision,
            maxPositions: opts.ids.length + opts.steps,
          });
          await model.setAdapters(opts.adapter);
          const trace = await forwardTrace(model, opts.ids, opts.steps);
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ logits: trace.logits.map((r) => Array.from(r)), tokens: trace.tokens })}\n`,
            );
          } else {
            process.stdout.write(
              `provider: ${model.info.provider.provider}\nprecision: ${model.info.precision.precision}\nrows: ${trace.logits.length}\ntokens: ${trace.tokens.join(',')}\n`,
            );
          }
        });
      },
    );
}
