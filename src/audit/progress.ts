// Progress events: stages in order, one overall fraction that never goes back, ending at 1.

/** The stages of an audit, in order. */
export const AUDIT_STAGES = ['hash', 'resolve', 'load', 'interpret', 'evidence', 'triggers', 'done'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** How the panel names each stage. */
export const STAGE_LABELS: Readonly<Record<AuditStage, string>> = {
  hash: 'Hashing files',
  resolve: 'Resolving the base model and interpreters',
  load: 'Loading models',
  interpret: 'Asking the interpreters',
  evidence: 'Generating evidence',
  triggers: 'Searching for triggers',
  done: 'Done',
};

export interface AuditProgress {
  readonly stage: AuditStage;
  readonly message: string;
  /** 0..1 over the whole audit; never decreases. */
  readonly fraction: number;
  /** On the 'done' event: the report came from the cache. */
  readonly cached?: boolean;
  /** Within a stage of countable steps (questions, prompts, candidates verified): which one this is, from 1. */
  readonly step?: ProgressStep;
}

export interface ProgressStep {
  readonly index: number;
  readonly count: number;
}

/** Fractions smaller than this are not worth an event of their own (a token of a long answer, say). */
const MIN_STEP = 0.005;

export type SpanReporter = (message: string, part: number, step?: ProgressStep) => void;

export class ProgressTracker {
  private fraction = 0;
  private last: AuditProgress | undefined;

  constructor(private readonly sink?: (p: AuditProgress) => void) {}

  report(stage: AuditStage, message: string, fraction: number, cached?: boolean, step?: ProgressStep): void {
    this.fraction = Math.max(this.fraction, Math.min(1, fraction));
    const last = this.last;
    if (last && last.stage === stage && last.message === message && this.fraction - last.fraction < MIN_STEP)
      return;
    this.last = {
      stage,
      message,
      fraction: this.fraction,
      ...(cached === undefined ? {} : { cached }),
      ...(step === undefined ? {} : { step }),
    };
    this.sink?.(this.last);
  }

  /** A sub-range [from, to) of the overall fraction, reported as parts of it complete. */
  span(stage: AuditStage, from: number, to: number): SpanReporter {
    return (message, part, step) =>
      this.report(stage, message, from + (to - from) * Math.min(1, Math.max(0, part)), undefined, step);
  }
}
