// `dit-audit serve`: our engine behind OpenAI-compatible endpoints (chat completions, models) and
// vLLM's LoRA loading ones, so one machine with the models can answer many clients. Listens on
// 127.0.0.1 unless told otherwise; `DIT_SERVE_API_KEY` makes every request need that key.
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { requireModelFolder } from '../../engine/checkpoint/classify';
import type { PrecisionPreference } from '../../engine/quant/precision';
import type { ProviderPreference } from '../../engine/runtime/providers';
import { positiveInt, precisionOption, providerOption } from '../options';
import { createOpenAiServer } from '../serve/http-server';
import { DEFAULT_MAX_LOGPROBS } from '../serve/openai-protocol';
import { ServedModel } from '../serve/served-model';
import { withEngine } from '../with-engine';

interface ServeOpts {
  model: string;
  name?: string;
  host: string;
  port: number;
  provider: ProviderPreference;
  precision: PrecisionPreference;
  maxPositions: number;
  maxLogprobs: number;
  quiet?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a model (and LoRA adapters loaded at run time) over an OpenAI-compatible API')
    .requiredOption('--model <dir>', 'model folder (config.json + safetensors + tokenizer.json)')
    .option('--name <name>', "the base model's name in requests (default: the folder's name)")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one; the line printed at start says which)', positiveInt, 8000)
    .option('--max-positions <n>', 'longest prompt + answer, in tokens', positiveInt, 4096)
    .option(
      '--max-logprobs <n>',
      "most top tokens per step a completion may ask for (vLLM's --max-logprobs)",
      positiveInt,
      DEFAULT_MAX_LOGPROBS,
    )
    .option('--quiet', 'no line per request on stderr')
    .addOption(providerOption('auto'))
    .addOption(precisionOption())
    .action(async (opts: ServeOpts) => {
      requireModelFolder(opts.model);
      await withEngine(async (engine, signal) => {
        const model = await ServedModel.open(engine, opts.model, {
          name: opts.name,
          provider: opts.provider,
          precision: opts.precision,
          maxPositions: opts.maxPositions,
        });
        const apiKey = process.env.DIT_SERVE_API_KEY || undefined;
        const server = createOpenAiServer(model, {
          apiKey,
          maxLogprobs: opts.maxLogprobs,
          log: opts.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(opts.port, opts.host, resolve);
        });
        const { address, port } = server.address() as AddressInfo;
        const host = address.includes(':') ? `[${address}]` : address;
        process.stdout.write(
          `serving ${model.name} (${model.provider}) at http://${host}:${port}/v1${apiKey ? ' (API key required)' : ''}\n`,
        );
        // Until Ctrl-C (or SIGTERM): then stop taking requests and let the engine go.
        const stop = () => {
          server.close();
          server.closeAllConnections();
        };
        process.once('SIGTERM', stop);
        await new Promise<void>((resolve) => {
          signal.addEventListener('abort', stop, { once: true });
          server.once('close', resolve);
        });
        process.removeListener('SIGTERM', stop);
      });
    });
}
