// What an audit is made of once its subject is known: the base and the interpreters, resolved and
// hashed, and the run the models would make. The cache key is computed from exactly these parts.
import { resolve } from 'node:path';
import { checkDiffFitsBase } from '../engine/adapter-fit';
import { requireModelFolder } from '../engine/checkpoint/classify';
import { cacheKey } from './cache';
import { samePath } from './demo-manifest';
import { throwIfCancelled } from './errors';
import type { FileHasher } from './hashing';
import { identifyInterpreter, identifyModel } from './identities';
import type { ProgressTracker } from './progress';
import { DEFAULT_EVIDENCE_PROMPTS } from './questions';
import type { CheckpointIdentity } from './report';
import type { AuditContext, AuditRequest } from './request';
import { resolvedBase } from './resolver';
import type { ModelRunPlan } from './run-models';
import type { Subject } from './subject';
import { DEFAULT_SEARCH } from './triggers/search';
import { ENGINE_VERSION } from './version';

export interface AuditParts {
  /** The subject as the report names it: a full finetune that is its own base is the model itself. */
  readonly identity: CheckpointIdentity;
  readonly base: CheckpointIdentity;
  /** The subject is the base model: nothing to compare, no trigger to search. */
  readonly isBase: boolean;
  readonly plan: ModelRunPlan;
  /** Milliseconds the resolver waited for the user's answers while finding these parts. */
  readonly waitedMs: number;
}

export async function resolveAuditParts(
  request: AuditRequest,
  context: AuditContext,
  subject: Subject,
  hasher: FileHasher,
  progress: ProgressTracker,
): Promise<AuditParts> {
  const { signal, resolver } = context;
  progress.report('resolve', 'Finding the base model and interpreters', 0.05);
  const waitedBefore = resolver.waitedMs;
  const base = request.base
    ? resolvedBase(await resolver.baseNameOf(request.subject), resolve(request.base))
    : await resolver.resolveBaseOf(request.subject);
  requireModelFolder(base.dir, `base ${base.dir}`);
  // A wrong base is named as such before a missing interpreter or tokenizer of that base could be.
  if (subject.adapter) await checkDiffFitsBase(subject.adapter, base.dir);
  throwIfCancelled(signal);
  const specs = request.interpreters ?? (await resolver.resolveInterpreters(base, request.subject));
  throwIfCancelled(signal);

  const hashOthers = progress.span('hash', 0.07, 0.2);
  hashOthers(`Hashing base model ${base.name}`, 0);
  const baseIdentity = await identifyModel(base.dir, base.name, hasher, (done, total) =>
    hashOthers(`Hashing base model ${base.name}`, (0.9 * done) / total),
  );
  const interpreters = [];
  for (const spec of specs) {
    throwIfCancelled(signal);
    hashOthers(`Hashing interpreter ${spec.path}`, 0.9);
    interpreters.push(await identifyInterpreter(spec, hasher));
  }
  await hasher.flush();
  throwIfCancelled(signal);
  const waitedMs = resolver.waitedMs - waitedBefore;

  const isBase = subject.modelDir !== undefined && samePath(subject.modelDir, baseIdentity.path);
  const budget = request.triggerBudget ?? DEFAULT_SEARCH.budget;
  return {
    identity: isBase ? { ...subject.identity, kind: 'model' } : subject.identity,
    base: baseIdentity,
    isBase,
    waitedMs,
    plan: {
      modelDir: subject.modelDir ?? baseIdentity.path,
      baseDir: baseIdentity.path,
      diff: subject.adapter ? [subject.adapter] : [],
      hasDiff: !isBase,
      search: isBase || budget === 0 ? null : { ...DEFAULT_SEARCH, budget },
      interpreters,
      extraQuestions: request.extraQuestions ?? [],
      evidencePrompts: isBase ? [] : (request.evidencePrompts ?? DEFAULT_EVIDENCE_PROMPTS),
      maxNewTokens: request.maxNewTokens,
      provider: request.provider ?? 'auto',
      precision: request.precision ?? 'auto',
    },
  };
}

/** `remote`: the server that runs the models, which answers for them instead of the local provider. */
export function cacheKeyOf(
  parts: AuditParts,
  remote?: { baseURL: string; model?: string; topLogprobs?: number },
): string {
  const { plan } = parts;
  return cacheKey({
    engineVersion: ENGINE_VERSION,
    subject: parts.identity,
    base: parts.base,
    interpreters: plan.interpreters,
    extraQuestions: plan.extraQuestions,
    evidencePrompts: plan.evidencePrompts,
    maxNewTokens: plan.maxNewTokens,
    provider: remote
      ? `remote ${remote.baseURL} ${remote.model ?? ''} ${remote.topLogprobs ?? ''}`.trimEnd()
      : plan.provider,
    precision: remote ? 'remote' : plan.precision,
    triggerBudget: plan.search?.budget ?? 0,
  });
}
