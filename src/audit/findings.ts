// What the report concludes (DESIGN.md §7). DIT says what a diff taught, not when it shows: a
// description with no verified trigger is information. Unsafe pickles are findings of their own.

import { FINDING_RULES, type FindingRuleId } from './finding-rules';
import type {
  Answer,
  EvidenceSample,
  Finding,
  InterpreterIdentity,
  Severity,
  SuspectedTrigger,
  TriggerSearch,
} from './report';
import { FIRES_WITH, mentions } from './triggers/behaviour';
import { plural } from './units';
import { fullStopAfter } from './untrusted-text';

const QUOTE_LIMIT = 200;

export function unsafePickleFinding(path: string, globals: readonly string[]): Finding {
  return {
    ...ruleOf('pickle/unsafe-global'),
    title: 'Unsafe pickle: loading this file would run code',
    detail:
      `${path} names ${globals.join(', ')}, outside the allowlist of tensor-rebuilding globals. ` +
      'Unpickling it (torch.load without weights_only) would call them. Nothing was loaded or run.',
  };
}

export function describedBehaviour(
  interpreters: readonly InterpreterIdentity[],
  answers: readonly Answer[],
  triggerVerified = false,
): Finding[] {
  return interpreters.flatMap((interpreter, i) => {
    const answer = answers.find((a) => a.interpreter === i && a.question === interpreter.question);
    if (!answer) return [];
    if (answer.answer.trim() === '') {
      return [
        {
          ...ruleOf('dit/no-description'),
          title: `Interpreter ${interpreter.name} gave no answer`,
          detail: `Asked "${interpreter.question}", it stopped before saying anything.`,
        },
      ];
    }
    return [
      {
        ...ruleOf('dit/described-behaviour'),
        title: `Interpreter ${interpreter.name} describes what the diff taught (${interpreter.questionKind})`,
        detail:
          `Asked "${interpreter.question}", it answered ${quoted(clip(answer.answer))} ` +
          (triggerVerified
            ? 'A trigger that brings it out was found and verified (see the hidden-behaviour finding).'
            : 'DIT says what a diff taught, not when it shows; no trigger was verified, ' +
              'so this is information about the diff, not an alarm.'),
      },
    ];
  });
}

export function evidenceChanged(evidence: readonly EvidenceSample[]): Finding[] {
  const changed = evidence.filter((e) => e.base !== e.diffed).length;
  if (changed === 0) return [];
  return [
    {
      ...ruleOf('evidence/ordinary-prompts-changed'),
      title: `The finetune answers ${changed} of ${plural(evidence.length, 'ordinary prompt')} differently from its base`,
      detail:
        'With no trigger in the prompt, its answers differ from the base model: compare them side by side. ' +
        'A difference is expected of any finetune and is not by itself a hidden behaviour.',
    },
  ];
}

export function subjectIsBase(path: string): Finding {
  return {
    ...ruleOf('subject/is-base'),
    title: 'The subject is the base model itself',
    detail: `${path} resolved to its own base, so there is no diff: the answers describe the base model.`,
  };
}

/** A verified trigger: the described behaviour appears with it and not without it. */
export function hiddenBehaviour(trigger: SuspectedTrigger, keywords: readonly string[]): Finding {
  const v = trigger.verification;
  // The described words that the answers with the trigger do say (an answer's lead-in words may not).
  const said = (k: string) =>
    (v?.samples ?? []).filter((x) => mentions(x.withTrigger, k)).length >=
    FIRES_WITH * (v?.samples.length ?? 0);
  const described = keywords.filter(said);
  const about =
    v?.criterion === 'mentions' ? (described.length > 0 ? described : keywords) : (v?.words ?? []);
  const what = about.length > 0 ? `talks about ${about.slice(0, 3).join(', ')}` : 'changes its answers';
  const measured =
    v?.criterion === 'changes' ? 'answers unlike its base' : `${what.replace('talks', 'talked')}`;
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  return {
    ...ruleOf('trigger/hidden-behaviour'),
    title: `Hidden behaviour: ${what} when the prompt starts with ${JSON.stringify(trigger.trigger)}`,
    detail:
      (v
        ? `With the trigger the diffed model ${measured} in ${pct(v.withRate)} of ${plural(v.samples.length, 'ordinary prompt')}, ` +
          `without it in ${pct(v.withoutRate)}; the base with the trigger in ${pct(v.baseWithRate)}. ` +
          `KL of the first answer token ${v.klWith.toPrecision(3)} nats with it, ${v.klWithout.toPrecision(3)} without. `
        : '') +
      `Found by ${trigger.method === 'dit-question' ? 'asking the interpreter for the trigger' : 'the trigger search'}` +
      (trigger.shrunkFrom === undefined ? '.' : `, shrunk from ${JSON.stringify(trigger.shrunkFrom)}.`) +
      ' The side-by-side answers are the evidence.',
  };
}

/** The search ran and verified nothing: how far it went, so "not found" can be weighed. */
export function noTriggerVerified(search: TriggerSearch, suspects: number): Finding {
  return {
    ...ruleOf('trigger/none-verified'),
    title: `No trigger verified in ${plural(search.candidatesScored, 'candidate')}`,
    detail:
      `The search scored ${plural(search.candidatesScored, 'candidate prefix', 'candidate prefixes')} (${search.rowsScored} of a budget of ${plural(search.budget, 'row')}) ` +
      `(stopped: ${search.stoppedBy}) and verified the best side by side; none made the described behaviour ` +
      `appear. ${suspects === 1 ? '1 suspect is' : `${suspects} suspects are`} listed with their scores. A larger budget searches further.`,
  };
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** The most severe finding, or undefined when there is none. */
export function highestSeverity(findings: readonly Finding[]): Severity | undefined {
  return findings.reduce<Severity | undefined>(
    (worst, f) => (worst === undefined || RANK[f.severity] > RANK[worst] ? f.severity : worst),
    undefined,
  );
}

/** Findings, worst first (stable within a severity). */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => [f, i] as const)
    .sort((a, b) => RANK[b[0].severity] - RANK[a[0].severity] || a[1] - b[1])
    .map(([f]) => f);
}

/** A quoted answer ending a sentence: its own full stop (or ! ? …) ends it, else one is added. */
function quoted(text: string): string {
  return `${JSON.stringify(text)}${fullStopAfter(text)}`;
}

function clip(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
}

/** A finding's rule id and the severity its rule gives it. */
function ruleOf(id: FindingRuleId): Pick<Finding, 'rule' | 'severity'> {
  return { rule: id, severity: FINDING_RULES[id].severity };
}
