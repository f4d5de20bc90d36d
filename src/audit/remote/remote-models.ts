// The audit's models on an OpenAI-compatible server (remote-session.ts): the diff, and each
// interpreter stacked on it, registered as adapters; chat turns through chat completions; the
// trigger search's rows as token ids through completions, compared by their top log-probabilities.
// The diff's weights are read here (its statistics and token prior need no forward pass).
import { InputError } from '../../engine/checkpoint/types';
import type { Engine } from '../../engine/runtime/engine';
import { loadCheckpoint } from '../../engine/runtime/load-model';
import type { AuditModels } from '../audit-models';
import { unlessCancelled } from '../errors';
import { chatCodec } from '../local-models';
import type { ModelRunPlan } from '../run-models';
import { klFromTopLogprobs } from '../triggers/divergence';
import type { TriggerModels } from '../triggers/trigger-models';
import { DEFAULT_TOP_LOGPROBS, type RemoteEndpoint, RemoteSession } from './remote-session';

/** Rows per completions request: one request's answer stays small, a server still batches them. */
const ROWS_PER_REQUEST = 64;

export async function openRemoteModels(
  endpoint: RemoteEndpoint,
  engine: Engine,
  plan: ModelRunPlan,
  signal: AbortSignal | undefined,
): Promise<AuditModels> {
  if (plan.hasDiff && plan.diff.length === 0)
    throw new InputError(
      `${plan.modelDir} is a full finetune: a remote engine serves its base with adapters on it, so audit it without --remote`,
    );
  const codec = await chatCodec(plan.modelDir, plan.baseDir);
  const top = endpoint.topLogprobs ?? DEFAULT_TOP_LOGPROBS;
  // The base's config and tensor names (headers only): the adapters are named as its weights are.
  const { options } = await loadCheckpoint(plan.baseDir);
  const session = await RemoteSession.connect(endpoint, { weightPrefix: options.weightPrefix }, signal);
  try {
    const diffed = await session.modelFor(plan.diff, signal);
    const nameOf = (side: 'diffed' | 'base') => (side === 'diffed' ? diffed : session.base);
    const triggers: TriggerModels = {
      async divergences(rows, s) {
        const out: number[] = [];
        for (let at = 0; at < rows.length; at += ROWS_PER_REQUEST) {
          const chunk = rows.slice(at, at + ROWS_PER_REQUEST);
          // Both sides at once: a server that batches (vLLM) answers them together.
          const [p, q] = await Promise.all([
            session.nextTokenLogprobs(diffed, chunk, top, s),
            session.nextTokenLogprobs(session.base, chunk, top, s),
          ]);
          p.forEach((pi, i) => {
            out.push(klFromTopLogprobs(pi, q[i]));
          });
        }
        return out;
      },
      answers: (side, rows, maxNewTokens, s) =>
        session.greedyTokens(nameOf(side), rows, maxNewTokens, codec.stopTokenIds, s),
    };
    return {
      codec,
      executionProvider: {
        name: 'remote',
        reasons: [
          `remote: ${endpoint.baseURL}, base model ${session.base}`,
          ...(plan.search
            ? [
                `the trigger search compares the server's top ${top} next-token log-probabilities (the tokens both sides list, the rest as one)`,
              ]
            : []),
        ],
      },
      triggers,
      async ask(side, extra, prompt, maxNewTokens, askSignal) {
        const stack = side === 'diffed' ? [...plan.diff, ...extra] : [...extra];
        const model = await session.modelFor(stack, askSignal);
        return session.ask(model, prompt, maxNewTokens, askSignal);
      },
      analyse: (analyseSignal) =>
        unlessCancelled(engine.analyseFiles(plan.modelDir, plan.diff), analyseSignal),
      close: () => session.close(),
    };
  } catch (e) {
    await session.close();
    throw e;
  }
}
