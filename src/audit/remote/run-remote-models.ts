// The models of an audit run on an OpenAI-compatible server (remote-session.ts): each interpreter
// stacked on the diff answers its questions, and the finetune and its base answer the evidence
// prompts, greedily, as runModels asks them locally. The trigger search needs the next-token
// distribution of many prompts, which chat completions do not give, so it does not run here; the
// weight statistics need the base's weights, so they are left to a local audit too.
import { throwIfCancelled } from '../errors';
import type { ProgressTracker } from '../progress';
import { EVIDENCE_MAX_NEW_TOKENS } from '../questions';
import type { Answer, EvidenceSample } from '../report';
import { type ModelRun, type ModelRunPlan, questionsOf } from '../run-models';
import { type RemoteEndpoint, RemoteSession } from './remote-session';

export async function runRemoteModels(
  endpoint: RemoteEndpoint,
  plan: ModelRunPlan,
  progress: ProgressTracker,
  signal: AbortSignal | undefined,
): Promise<ModelRun> {
  const t0 = performance.now();
  progress.report('load', `Connecting to ${endpoint.baseURL}`, 0.2);
  const session = await RemoteSession.connect(endpoint, signal);
  try {
    const questions = questionsOf({ ...plan, search: null });
    const diffModel = await session.modelFor(plan.diff, signal);
    const t1 = performance.now();

    const interpret = progress.span('interpret', 0.25, 0.5);
    const answers: Answer[] = [];
    for (const [i, q] of questions.entries()) {
      throwIfCancelled(signal);
      const interp = plan.interpreters[q.interpreter];
      interpret(`Asking ${interp.name}: ${q.question}`, i / questions.length, {
        index: i + 1,
        count: questions.length,
      });
      const model = await session.modelFor([...plan.diff, { path: interp.path }], signal);
      const reply = await session.ask(model, q.question, q.maxNewTokens, signal);
      const { interpreter, question, questionKind } = q;
      answers.push({
        interpreter,
        question,
        questionKind,
        answer: reply.text,
        tokens: reply.tokens,
        finishReason: reply.finishReason,
      });
    }
    const t2 = performance.now();

    const evidence: EvidenceSample[] = [];
    const prompts = plan.hasDiff ? plan.evidencePrompts : [];
    const maxNewTokens = Math.min(plan.maxNewTokens ?? EVIDENCE_MAX_NEW_TOKENS, EVIDENCE_MAX_NEW_TOKENS);
    const side = progress.span('evidence', 0.5, 0.75);
    for (const [i, prompt] of prompts.entries()) {
      throwIfCancelled(signal);
      side(`Prompt ${i + 1} of ${prompts.length}: ${prompt}`, i / prompts.length, {
        index: i + 1,
        count: prompts.length,
      });
      const diffed = await session.ask(diffModel, prompt, maxNewTokens, signal);
      const base = await session.ask(session.base, prompt, maxNewTokens, signal);
      evidence.push({ prompt, base: base.text, diffed: diffed.text });
    }
    const t3 = performance.now();
    return {
      answers,
      evidence,
      triggers: [],
      triggerSearch: null,
      statistics: null,
      executionProvider: {
        name: 'remote',
        reasons: [
          `remote: ${endpoint.baseURL}, base model ${session.base}; no trigger search and no weight statistics (they need the weights on this machine)`,
        ],
      },
      loadMs: t1 - t0,
      interpretMs: t2 - t1,
      evidenceMs: t3 - t2,
      triggerMs: 0,
    };
  } finally {
    await session.close();
  }
}
