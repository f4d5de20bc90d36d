import type { Command } from 'commander';
import type { CheckpointRef } from '../../engine/checkpoint/reference';
import type { PrecisionPreference } from '../../engine/quant/precision';
import { generateFromText } from '../../engine/text/generate';
import type { SamplingOptions } from '../../engine/text/sampling';
import { loadTextCodec } from '../../engine/text/tokenizer';
import {
  ADAPTER_OPTION,
  collect,
  finiteNumber,
  positiveInt,
  precisionOption,
  providerOption,
} from '../options';
import { withEngine } from '../with-engine';

interface GenerateOpts {
  model: string;
  adapter: CheckpointRef[];
  prompt: string[];
  chat?: boolean;
  maxNewTokens: number;
  temperature?: number;
  topP: number;
  seed: number;
  provider: 'auto';
  precision: PrecisionPreference;
  json?: boolean;
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate text from one or more prompts')
    .requiredOption('--model <dir>', 'model folder (config.json + safetensors + tokenizer.json)')
    .option(ADAPTER_OPTION.flags, ADAPTER_OPTION.description, ADAPTER_OPTION.parse, [])
    .requiredOption('--prompt <text>', 'prompt (repeatable: several prompts per call)', collect, [])
    .option('--chat', "wrap each prompt in the model's chat template (thinking off)")
    .option('--max-new-tokens <n>', 'tokens to generate per prompt', positiveInt, 64)
    .option('--temperature <t>', 'sample at this temperature (greedy when absent or 0)', finiteNumber)
    .option('--top-p <p>', 'nucleus sampling threshold', finiteNumber, 1)
    .option('--seed <n>', 'sampling seed', positiveInt, 0)
    .addOption(providerOption('auto'))
    .addOption(precisionOption())
    .option('--json', 'print JSON')
    .action(async (opts: GenerateOpts) => {
      const codec = await loadTextCodec(opts.model);
      const sampling: SamplingOptions =
        opts.temperature && opts.temperature > 0
          ? { kind: 'sample', temperature: opts.temperature, topP: opts.topP, seed: opts.seed }
          : { kind: 'greedy' };
      await withEngine(async (engine, signal) => {
        const model = await engine.open(opts.model, { provider: opts.provider, precision: opts.precision });
        await model.setAdapters(opts.adapter);
        const results = await generateFromText(
          codec,
          () => model.sequence(256),
          opts.prompt,
          { chat: Boolean(opts.chat), maxNewTokens: opts.maxNewTokens, sampling },
          signal,
        );
        if (opts.json) {
          const out = results.map((r) => ({
            prompt: r.prompt,
            inputIds: r.inputIds,
            text: r.text,
            tokens: r.tokens,
            finishReason: r.finishReason,
          }));
          process.stdout.write(
            `${JSON.stringify({ provider: model.info.provider.provider, results: out })}\n`,
          );
        } else {
          for (const r of results) process.stdout.write(`> ${r.prompt}\n${r.text}\n\n`);
        }
      });
    });
}
