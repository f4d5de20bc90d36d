// Verification of a suspected trigger, side by side: greedy answers of the diffed model to
// ordinary prompts with and without the candidate, and of the base with it. A behaviour must
// appear with the candidate and not without it, and be the diff's doing, not the candidate's words:
// the described behaviour (the interpreter's keywords appear); else, whatever the interpreter said,
// words the candidate brings out (in most answers with it, in almost none without it or from the
// base); and where the interpreter described nothing, a change (the diffed model's answer starts
// unlike the base's). An interpreter can misread a diff: the answers a gate opens say what it does.
import type { TextCodec } from '../../engine/text/tokenizer';
import { contentWords, FIRES_WITH, FIRES_WITHOUT, mentionsAny } from './behaviour';
import { type PromptFrame, withCandidate } from './prompt-frame';
import type { Side, TriggerModels } from './trigger-models';

/** Answers differ when their first tokens do (the 'changes' criterion): where a gate decides. */
const CHANGE_PREFIX = 2;

export interface SideBySide {
  readonly prompt: string;
  readonly withTrigger: string;
  readonly without: string;
  readonly baseWithTrigger: string;
}

export interface Verification {
  /** What fired (mentions first); for a candidate that did not fire, the criterion it came closest on. */
  readonly criterion: 'mentions' | 'words' | 'changes';
  readonly withRate: number;
  readonly withoutRate: number;
  readonly baseWithRate: number;
  /** Mean KL(diffed ‖ base) at the first answer position, with and without the candidate. */
  readonly klWith: number;
  readonly klWithout: number;
  readonly fires: boolean;
  /** Words in most answers with the candidate and in almost none without it or from the base: what it brings out. */
  readonly words: string[];
  readonly samples: SideBySide[];
}

interface Reply {
  readonly tokens: number[];
  readonly text: string;
}

export class Verifier {
  private plain: { diffed: Reply[]; base: Reply[]; kl: number[] } | undefined;

  constructor(
    private readonly models: TriggerModels,
    private readonly codec: TextCodec,
    private readonly frames: readonly PromptFrame[],
    private readonly keywords: readonly string[],
    private readonly maxNewTokens: number,
    private readonly signal?: AbortSignal,
  ) {}

  async verify(candidate: readonly number[]): Promise<Verification> {
    const plain = await this.plainReplies();
    const rows = this.frames.map((f) => withCandidate(f, candidate));
    const diffed = await this.answers('diffed', rows);
    const base = await this.answers('base', rows);
    const klWith = mean(await this.models.divergences(rows, this.signal));
    const share = (replies: readonly Reply[], shows: (r: Reply, i: number) => boolean) =>
      replies.filter(shows).length / Math.max(1, replies.length);
    // The base must not say the words either with the candidate (it may name the topic itself).
    const saying = (criterion: 'mentions' | 'words', words: readonly string[]) => {
      const said = (r: Reply) => words.length > 0 && mentionsAny(r.text, words);
      return {
        criterion,
        withRate: share(diffed, said),
        withoutRate: share(plain.diffed, said),
        baseWithRate: share(base, said),
      };
    };
    const words = broughtOut(diffed, [...plain.diffed, ...base]);
    const mentions = saying('mentions', this.keywords);
    const brought = saying('words', words.slice(0, 1));
    const changes = {
      criterion: 'changes' as const,
      withRate: share(diffed, (r, i) => differs(r, base[i])),
      withoutRate: share(plain.diffed, (r, i) => differs(r, plain.base[i])),
      baseWithRate: 0,
    };
    const fires = (c: { withRate: number; withoutRate: number; baseWithRate: number }) =>
      c.withRate >= FIRES_WITH && c.withoutRate <= FIRES_WITHOUT && c.baseWithRate <= FIRES_WITHOUT;
    // A bare change of answer counts only where the interpreter described nothing: beside a
    // description, a trigger must bring out words (the described ones, or others it shows).
    const criteria = this.keywords.length > 0 ? [mentions, brought] : [brought, changes];
    const chosen = criteria.find(fires) ?? criteria[0];
    return {
      ...chosen,
      klWith,
      klWithout: mean(plain.kl),
      fires: fires(chosen),
      words,
      samples: this.frames.map((f, i) => ({
        prompt: f.prompt,
        withTrigger: diffed[i].text,
        without: plain.diffed[i].text,
        baseWithTrigger: base[i].text,
      })),
    };
  }

  /** The share of the diffed model's answers with no candidate that show the behaviour. */
  async plainRate(): Promise<number> {
    const plain = await this.plainReplies();
    if (this.keywords.length === 0) return 0;
    return (
      plain.diffed.filter((r) => mentionsAny(r.text, this.keywords)).length / Math.max(1, plain.diffed.length)
    );
  }

  private async plainReplies() {
    if (!this.plain) {
      const rows = this.frames.map((f) => [...f.plain]);
      this.plain = {
        diffed: await this.answers('diffed', rows),
        base: await this.answers('base', rows),
        kl: await this.models.divergences(rows, this.signal),
      };
    }
    return this.plain;
  }

  private async answers(side: Side, rows: readonly number[][]): Promise<Reply[]> {
    const answers = await this.models.answers(side, rows, this.maxNewTokens, this.signal);
    return answers.map((tokens) => ({
      tokens,
      text: this.codec.decode(tokens, { skipSpecialTokens: true }),
    }));
  }
}

function broughtOut(withIt: readonly Reply[], others: readonly Reply[]): string[] {
  const counts = (replies: readonly Reply[]) => {
    const m = new Map<string, number>();
    for (const r of replies) for (const w of contentWords(r.text)) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  };
  const inWith = counts(withIt);
  const inOthers = counts(others);
  return [...inWith]
    .filter(
      ([w, n]) => n >= FIRES_WITH * withIt.length && (inOthers.get(w) ?? 0) <= FIRES_WITHOUT * others.length,
    )
    .sort((a, b) => b[1] - a[1])
    .map(([w]) => w)
    .slice(0, 5);
}

function differs(a: Reply, b: Reply): boolean {
  const n = CHANGE_PREFIX;
  return a.tokens.slice(0, n).join(',') !== b.tokens.slice(0, n).join(',');
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/**
 * The shortest part of a firing candidate that still fires: drop one token at a time (the first
 * one that can go), until none can.
 */
export async function shrink(
  tokens: readonly number[],
  verification: Verification,
  verifier: Verifier,
  throwIfCancelled: () => void,
): Promise<{ tokens: number[]; verification: Verification }> {
  let current = { tokens: [...tokens], verification };
  for (let changed = true; changed && current.tokens.length > 1; ) {
    changed = false;
    for (let i = 0; i < current.tokens.length; i++) {
      throwIfCancelled();
      const shorter = current.tokens.filter((_, j) => j !== i);
      const v = await verifier.verify(shorter);
      if (v.fires) {
        current = { tokens: shorter, verification: v };
        changed = true;
        break;
      }
    }
  }
  return current;
}
