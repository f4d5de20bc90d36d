// What a caller asks of an audit, and what it lends it.
import type { CheckpointRef } from '../engine/checkpoint/reference';
import { InputError } from '../engine/checkpoint/types';
import { PRECISION_PREFERENCES, type PrecisionPreference } from '../engine/quant/precision';
import type { Engine } from '../engine/runtime/engine';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../engine/runtime/providers';
import type { ReportCache } from './cache';
import type { InterpreterSpec } from './identities';
import type { AuditProgress } from './progress';
import type { RemoteEndpoint } from './remote/remote-session';
import type { ModelResolver } from './resolver';

export interface AuditRequest {
  /** The checkpoint: a path, and for a `.pt` list of weight diffs the entry. */
  readonly subject: CheckpointRef;
  /** The base model's folder, instead of resolving it. */
  readonly base?: string;
  /** Instead of the interpreters the resolver finds. */
  readonly interpreters?: readonly InterpreterSpec[];
  /** Asked with each interpreter stacked (kind 'custom'). */
  readonly extraQuestions?: readonly string[];
  /** A cap on the new tokens of every answer. */
  readonly maxNewTokens?: number;
  readonly provider?: ProviderPreference;
  /** Weight precision of the local engine (default auto: the most precise that fits in memory). */
  readonly precision?: PrecisionPreference;
  /** Ordinary prompts answered by the base and the finetune side by side (default: a few everyday questions). */
  readonly evidencePrompts?: readonly string[];
  /** Candidate triggers the search may score (0: no search). Default: the search's own budget. */
  readonly triggerBudget?: number;
  /** Audit again even when the cache holds a report (the new one replaces it). */
  readonly refresh?: boolean;
}

export interface AuditContext {
  readonly engine: Engine;
  readonly resolver: ModelResolver;
  readonly cache?: ReportCache;
  readonly onProgress?: (p: AuditProgress) => void;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** Run the models on this OpenAI-compatible server instead of the engine (no trigger search there). */
  readonly remote?: RemoteEndpoint;
}

/** Refuses a malformed request before anything is read. */
export function checkRequest(request: AuditRequest): void {
  const problems: string[] = [];
  const { path, entry } = request.subject ?? {};
  if (typeof path !== 'string' || path.trim() === '') problems.push('no subject to audit');
  if (entry !== undefined && !(Number.isInteger(entry) && entry >= 0))
    problems.push(`the subject's entry must be a whole number of at least 0 (got ${entry})`);
  const cap = request.maxNewTokens;
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1))
    problems.push(`maxNewTokens must be a whole number of at least 1 (got ${cap})`);
  const budget = request.triggerBudget;
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 0))
    problems.push(`triggerBudget must be a whole number of at least 0 (got ${budget})`);
  if (request.provider !== undefined && !PROVIDER_PREFERENCES.includes(request.provider))
    problems.push(`provider must be one of ${PROVIDER_PREFERENCES.join(', ')} (got ${request.provider})`);
  if (request.precision !== undefined && !PRECISION_PREFERENCES.includes(request.precision))
    problems.push(`precision must be one of ${PRECISION_PREFERENCES.join(', ')} (got ${request.precision})`);
  if (request.interpreters?.length === 0) problems.push('the interpreter list is empty');
  for (const i of request.interpreters ?? []) {
    if (!i.path) problems.push('an interpreter has no path');
    if (!i.question?.trim()) problems.push(`interpreter ${i.path} has no question`);
  }
  if (request.extraQuestions?.some((q) => !q.trim())) problems.push('an extra question is empty');
  if (request.evidencePrompts?.some((p) => !p.trim())) problems.push('an evidence prompt is empty');
  if (problems.length > 0) throw new InputError(`bad audit request: ${problems.join('; ')}`);
}
