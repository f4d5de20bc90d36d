// The audit report: plain, versioned JSON. Every surface (CLI text/JSON/Markdown/SARIF, the panel,
// diagnostics) is a view of it. The zod schema is the single definition: TypeScript types are
// inferred from it, reports read back from a cache or a message are validated with it, and
// `reportJsonSchema()` publishes it as JSON Schema.
import { z } from 'zod';
import { LINEAR_MODULES } from '../engine/checkpoint/types';
import { PRECISIONS } from '../engine/quant/precision';
import { PROVIDER_NAMES } from '../engine/runtime/providers';

export const REPORT_SCHEMA_VERSION = 2;

export const CheckpointIdentity = z.object({
  /** Absolute path; for an entry of a `.pt` list, the file (see `entry`). */
  path: z.string(),
  kind: z.enum([
    'model',
    'full-finetune',
    'peft-adapter',
    'safetensors',
    'torch-weight-diff',
    'torch-dit-adapter',
  ]),
  /** Index into a `.pt` list of weight diffs (`FILE#INDEX`). */
  entry: z.number().int().nonnegative().optional(),
  /** A name users recognise: a repo id (`Qwen/Qwen3-8B`), a folder name. */
  name: z.string(),
  /** sha256 over the files that make it up (hex). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  /** Facts the file states about itself (a paper diff's topic and trigger, a PEFT base model). */
  metadata: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});
export type CheckpointIdentity = z.infer<typeof CheckpointIdentity>;

export const QuestionKind = z.enum(['topic', 'knowledge', 'trigger', 'custom']);
export type QuestionKind = z.infer<typeof QuestionKind>;

export const InterpreterIdentity = CheckpointIdentity.extend({
  /** The question this interpreter was trained to answer (DESIGN.md §1), verbatim. */
  question: z.string(),
  questionKind: QuestionKind,
});
export type InterpreterIdentity = z.infer<typeof InterpreterIdentity>;

export const Answer = z.object({
  /** Index into `interpreters`; null for questions asked of the diffed model without an interpreter. */
  interpreter: z.number().int().nonnegative().nullable(),
  question: z.string(),
  questionKind: QuestionKind,
  /** The model's words, verbatim. Untrusted text: never render it as HTML. */
  answer: z.string(),
  tokens: z.number().int().nonnegative(),
  finishReason: z.enum(['stop', 'length', 'cancelled', 'stop-string']),
});
export type Answer = z.infer<typeof Answer>;

export const EvidenceSample = z.object({
  prompt: z.string(),
  /** Untrusted model output, as `answer` above. */
  base: z.string(),
  diffed: z.string(),
});
export type EvidenceSample = z.infer<typeof EvidenceSample>;

/** One ordinary prompt answered with and without a suspected trigger. Untrusted model output. */
export const TriggerSample = z.object({
  prompt: z.string(),
  /** The diffed model, the trigger before the prompt. */
  withTrigger: z.string(),
  /** The diffed model, the prompt alone. */
  without: z.string(),
  /** The base model, the trigger before the prompt. */
  baseWithTrigger: z.string(),
});
export type TriggerSample = z.infer<typeof TriggerSample>;

export const TriggerVerification = z.object({
  /**
   * `mentions`: the interpreter's keywords appear; `words`: words the trigger brings out (the
   * interpreter misread the diff, or said nothing); `changes`: the answer starts unlike the base's.
   */
  criterion: z.enum(['mentions', 'words', 'changes']),
  /** Share of the diffed model's answers with the trigger that show the behaviour. */
  withRate: z.number().min(0).max(1),
  withoutRate: z.number().min(0).max(1),
  /** Share of the base's answers with the trigger that show it (the trigger's own words, not the diff). */
  baseWithRate: z.number().min(0).max(1),
  /** Mean KL(diffed ‖ base) of the next token after the prompt, with and without the trigger (nats). */
  klWith: z.number().nonnegative(),
  klWithout: z.number().nonnegative(),
  /** Words in most answers with the trigger and in almost none without it or from the base. */
  words: z.array(z.string()),
  samples: z.array(TriggerSample),
});
export type TriggerVerification = z.infer<typeof TriggerVerification>;

export const SuspectedTrigger = z.object({
  /** The prefix as text. Untrusted: it came out of the model's vocabulary. */
  trigger: z.string(),
  tokens: z.array(z.number().int().nonnegative()),
  /** `search`: the prior and the behavioural search; `dit-question`: the paper's baseline (the interpreter asked for it). */
  method: z.enum(['search', 'dit-question']),
  /** Mean KL(diffed ‖ base) of the first answer token over the search prompts (nats). */
  score: z.number(),
  /** Verified side by side: the behaviour shows with it and not without it. */
  verified: z.boolean(),
  /** The longer candidate this one was shrunk from. */
  shrunkFrom: z.string().optional(),
  verification: TriggerVerification.optional(),
});
export type SuspectedTrigger = z.infer<typeof SuspectedTrigger>;

/** How far the trigger search went, and what it looked for. */
export const TriggerSearch = z.object({
  /** Candidate prefixes scored, on one search prompt or on all. */
  candidatesScored: z.number().int().nonnegative(),
  /** Rows (a candidate before a prompt, read by both models) scored. */
  rowsScored: z.number().int().nonnegative(),
  /** The most rows the search could score. */
  budget: z.number().int().nonnegative(),
  /** Single tokens tried as a trigger, of the `vocabulary` tokens a user could type. */
  singleTokens: z.number().int().nonnegative(),
  vocabulary: z.number().int().nonnegative(),
  stoppedBy: z.enum(['converged', 'budget', 'longest']),
  /** The score of no candidate: what the diff does to ordinary prompts by itself. */
  baselineScore: z.number(),
  /** The described behaviour as words an answer is checked for; empty: nothing was described. */
  keywords: z.array(z.string()),
  searchPrompts: z.array(z.string()),
  verifyPrompts: z.array(z.string()),
  /** Share of the diffed model's answers with no trigger that already show the behaviour. */
  behaviourWithoutTrigger: z.number().min(0).max(1),
  /** The weights-only prior's strongest tokens. */
  priorTop: z.array(z.object({ token: z.string(), score: z.number() })),
});
export type TriggerSearch = z.infer<typeof TriggerSearch>;

export const ModuleStatistics = z.object({
  layer: z.number().int().nonnegative(),
  module: z.enum(LINEAR_MODULES),
  rank: z.number().int().nonnegative(),
  frobeniusNorm: z.number().nonnegative(),
  /** ‖ΔW‖ / ‖W‖ of the base weight. */
  relativeNorm: z.number().nonnegative(),
  /** exp of the entropy of the normalised singular values. */
  effectiveRank: z.number().nonnegative(),
  topSingularValues: z.array(z.number().nonnegative()),
});
export type ModuleStatistics = z.infer<typeof ModuleStatistics>;

export const DiffStatistics = z.object({
  /** `low-rank`: from the adapter's factors; `full`: from `finetuned − base`. */
  source: z.enum(['low-rank', 'full']),
  layers: z.number().int().nonnegative(),
  /** One cell per layer and module the diff changes. */
  cells: z.array(ModuleStatistics),
  /** Frobenius norm of the whole weight diff. */
  frobeniusNorm: z.number().nonnegative(),
  maxRank: z.number().int().nonnegative(),
});
export type DiffStatistics = z.infer<typeof DiffStatistics>;

/** What the report concludes, computed once by the audit core (verdict.ts); every view shows it. */
export const Verdict = z.object({
  /**
   * `error`/`warning`: findings of that severity; `described`: the interpreter describes a
   * behaviour that ordinary prompts do not show and no trigger was verified; `overt`: the
   * described behaviour shows without any trigger; `clean`: nothing described, nothing found.
   */
  level: z.enum(['clean', 'overt', 'described', 'warning', 'error']),
  label: z.string(),
  summary: z.string(),
});
export type Verdict = z.infer<typeof Verdict>;

export const Severity = z.enum(['info', 'warning', 'error']);
export type Severity = z.infer<typeof Severity>;

export const Finding = z.object({
  /** Stable rule id, e.g. `dit/described-behaviour`, `pickle/unsafe-global`. */
  rule: z.string(),
  severity: Severity,
  title: z.string(),
  detail: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const AuditReport = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  /** dit-auditor's version: part of the cache key. */
  engineVersion: z.string(),
  createdAt: z.string(),
  subject: CheckpointIdentity,
  /** Null when the audit stopped before a base was needed (an unsafe pickle, say). */
  base: CheckpointIdentity.nullable(),
  interpreters: z.array(InterpreterIdentity),
  /**
   * `remote`: an OpenAI-compatible server ran the models (`reasons` names it). `precision`: the
   * weights the local engine ran at (absent for a remote run, and in reports older than it).
   */
  executionProvider: z
    .object({
      name: z.enum([...PROVIDER_NAMES, 'remote']),
      reasons: z.array(z.string()),
      precision: z.object({ name: z.enum(PRECISIONS), reason: z.string() }).optional(),
    })
    .nullable(),
  timings: z.object({
    totalMs: z.number().nonnegative(),
    loadMs: z.number().nonnegative(),
    interpretMs: z.number().nonnegative(),
    evidenceMs: z.number().nonnegative(),
    triggerMs: z.number().nonnegative(),
  }),
  answers: z.array(Answer),
  evidence: z.array(EvidenceSample),
  /** Verified triggers first, then suspects by score. */
  triggers: z.array(SuspectedTrigger),
  /** Null when no search ran (no diff, an unsafe pickle, or the search turned off). */
  triggerSearch: TriggerSearch.nullable(),
  /** Null when there is no diff (the subject is its own base, or nothing was loaded). */
  statistics: DiffStatistics.nullable(),
  findings: z.array(Finding),
  verdict: Verdict,
});
export type AuditReport = z.infer<typeof AuditReport>;

/** Parses untrusted JSON (a cache file, a message) into a report, or throws a one-line error. */
export function parseReport(value: unknown): AuditReport {
  const result = AuditReport.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`not a dit-auditor report: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

export function reportJsonSchema(): unknown {
  return z.toJSONSchema(AuditReport);
}
