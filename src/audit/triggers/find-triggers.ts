// Suspected triggers, found and verified: the token prior seeds a behavioural search, the paper's
// baseline (the DIT-adapter asked for the trigger) joins as one more candidate, the best ones are
// verified side by side, and a firing one is shrunk to the shortest prefix that still fires.
import type { TokenPrior } from '../../engine/analysis/token-prior';
import type { TextCodec } from '../../engine/text/tokenizer';
import { throwIfCancelled } from '../errors';
import type { SpanReporter } from '../progress';
import type { SuspectedTrigger, TriggerSearch } from '../report';
import { promptFrame, typeableToken, withCandidate } from './prompt-frame';
import { type SearchSettings, searchTriggers } from './search';
import type { TriggerModels } from './trigger-models';
import { shrink, type Verification, Verifier } from './verify';

/** Search candidates verified side by side (besides the paper's baseline). */
const VERIFIED_CANDIDATES = 4;
/** Suspects listed in the report. */
const LISTED = 8;
/** The paper's baseline answer, cut to a prefix this long. */
const BASELINE_TOKENS = 8;
const VERIFY_NEW_TOKENS = 24;

export interface TriggerPlan {
  /** The diffed model and its base. */
  readonly models: TriggerModels;
  readonly codec: TextCodec;
  /** What the described behaviour looks like in an answer (behaviour.ts). */
  readonly keywords: readonly string[];
  readonly prior: TokenPrior;
  /** The interpreter's answer to the paper's trigger question, if it was asked. */
  readonly baselineAnswer?: string;
  readonly settings: SearchSettings;
  readonly searchPrompts: readonly string[];
  readonly verifyPrompts: readonly string[];
}

export interface FoundTriggers {
  readonly triggers: SuspectedTrigger[];
  readonly search: TriggerSearch;
}

export async function findTriggers(
  plan: TriggerPlan,
  onProgress: SpanReporter,
  signal: AbortSignal | undefined,
): Promise<FoundTriggers> {
  const cancelled = () => throwIfCancelled(signal);
  const { codec } = plan;
  const frames = plan.searchPrompts.map((p) => promptFrame(codec, p));
  const ranking = plan.prior.ids.filter((id) => typeableToken(codec, id));
  const baselineTokens = baselineCandidate(codec, plan.baselineAnswer);

  const score = async (candidates: readonly (readonly number[])[], prompts = frames.length) => {
    const used = frames.slice(0, prompts);
    const rows = candidates.flatMap((c) => used.map((f) => withCandidate(f, c)));
    const kl = await plan.models.divergences(rows, signal);
    return candidates.map((_, i) => mean(kl.slice(i * used.length, (i + 1) * used.length)));
  };
  onProgress('Scoring candidate triggers', 0);
  const outcome = await searchTriggers(
    score,
    frames.length,
    ranking,
    baselineTokens ? [baselineTokens] : [],
    plan.settings,
    (rows) => onProgress(`Scored ${rows} candidate rows`, (0.6 * rows) / plan.settings.budget),
    cancelled,
  );

  const verifier = new Verifier(
    plan.models,
    codec,
    plan.verifyPrompts.map((p) => promptFrame(codec, p)),
    plan.keywords,
    VERIFY_NEW_TOKENS,
    signal,
  );
  const isBaseline = (tokens: readonly number[]) =>
    baselineTokens !== undefined && same(tokens, baselineTokens);
  const toVerify = outcome.ranked.filter((c) => !isBaseline(c.tokens)).slice(0, VERIFIED_CANDIDATES);
  const baseline = outcome.ranked.find((c) => isBaseline(c.tokens));
  const triggers: SuspectedTrigger[] = [];
  const checks = [
    ...toVerify.map((c) => ({ c, method: 'search' as const })),
    ...(baseline ? [{ c: baseline, method: 'dit-question' as const }] : []),
  ];
  for (const [i, { c, method }] of checks.entries()) {
    cancelled();
    // A candidate holding a verified trigger would only shrink to it again.
    if (triggers.some((t) => t.verified && contains(c.tokens, t.tokens))) continue;
    onProgress(
      `Verifying candidate ${i + 1} of ${checks.length}: ${JSON.stringify(text(codec, c.tokens))}`,
      0.6 + (0.4 * i) / checks.length,
      { index: i + 1, count: checks.length },
    );
    const v = await verifier.verify(c.tokens);
    if (!v.fires) {
      triggers.push(entry(codec, c.tokens, c.score, method, v));
      continue;
    }
    const short = await shrink(c.tokens, v, verifier, cancelled);
    const shortScore = short.tokens.length === c.tokens.length ? c.score : (await score([short.tokens]))[0];
    if (triggers.some((t) => t.verified && same(t.tokens, short.tokens))) continue;
    triggers.push({
      ...entry(codec, short.tokens, shortScore, method, short.verification),
      ...(short.tokens.length < c.tokens.length ? { shrunkFrom: text(codec, c.tokens) } : {}),
    });
  }
  const verifiedOrChecked = new Set(triggers.map((t) => t.tokens.join(',')));
  for (const c of outcome.ranked) {
    if (triggers.length >= LISTED) break;
    if (verifiedOrChecked.has(c.tokens.join(','))) continue;
    triggers.push(entry(codec, c.tokens, c.score, isBaseline(c.tokens) ? 'dit-question' : 'search'));
  }
  // Verified first, the clearest gate first (the share with it minus without it), then by score.
  const margin = (t: SuspectedTrigger) =>
    t.verification ? t.verification.withRate - t.verification.withoutRate : 0;
  triggers.sort(
    (a, b) =>
      Number(b.verified) - Number(a.verified) ||
      (a.verified ? margin(b) - margin(a) : 0) ||
      b.score - a.score,
  );
  return {
    triggers,
    search: {
      candidatesScored: outcome.scored,
      rowsScored: outcome.rows,
      singleTokens: outcome.singleTokens,
      vocabulary: ranking.length,
      budget: plan.settings.budget,
      stoppedBy: outcome.stoppedBy,
      baselineScore: outcome.baseline,
      keywords: [...plan.keywords],
      searchPrompts: [...plan.searchPrompts],
      verifyPrompts: [...plan.verifyPrompts],
      behaviourWithoutTrigger: await verifier.plainRate(),
      priorTop: ranking.slice(0, 10).map((id) => ({
        token: text(codec, [id]),
        score: round(plan.prior.scores[plan.prior.ids.indexOf(id)]),
      })),
    },
  };
}

function entry(
  codec: TextCodec,
  tokens: readonly number[],
  score: number,
  method: SuspectedTrigger['method'],
  verification?: Verification,
): SuspectedTrigger {
  return {
    trigger: text(codec, tokens),
    tokens: [...tokens],
    method,
    score: round(score),
    verified: verification?.fires ?? false,
    ...(verification
      ? {
          verification: {
            criterion: verification.criterion,
            withRate: verification.withRate,
            withoutRate: verification.withoutRate,
            baseWithRate: verification.baseWithRate,
            klWith: round(verification.klWith),
            klWithout: round(verification.klWithout),
            words: verification.words,
            samples: verification.samples,
          },
        }
      : {}),
  };
}

/** The paper's baseline as a candidate prefix: the interpreter's answer, cut short. */
function baselineCandidate(codec: TextCodec, answer: string | undefined): number[] | undefined {
  const words = answer?.trim();
  if (!words) return undefined;
  const ids = codec.encode(words, { addSpecialTokens: false }).slice(0, BASELINE_TOKENS);
  return ids.length > 0 ? ids : undefined;
}

function text(codec: TextCodec, tokens: readonly number[]): string {
  return codec.decode(tokens, { skipSpecialTokens: true });
}

function contains(tokens: readonly number[], part: readonly number[]): boolean {
  for (let i = 0; i + part.length <= tokens.length; i++)
    if (same(tokens.slice(i, i + part.length), part)) return true;
  return false;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
