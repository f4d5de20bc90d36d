// What the report concludes (DESIGN.md §7). DIT says what a diff taught, not when it shows: a
// description with no verified trigger is information. Unsafe pickles are findings of their own.
import type { Answer, EvidenceSample, Finding, InterpreterIdentity, Severity } from './report';

const QUOTE_LIMIT = 200;

export function unsafePickleFinding(path: string, globals: readonly string[]): Finding {
  return {
    rule: 'pickle/unsafe-global',
    severity: 'error',
    title: 'Unsafe pickle: loading this file would run code',
    detail:
      `${path} names ${globals.join(', ')}, outside the allowlist of tensor-rebuilding globals. ` +
      'Unpickling it (torch.load without weights_only) would call them. Nothing was loaded or run.',
  };
}

export function describedBehaviour(
  interpreters: readonly InterpreterIdentity[],
  answers: readonly Answer[],
): Finding[] {
  return interpreters.flatMap((interpreter, i) => {
    const answer = answers.find((a) => a.interpreter === i && a.question === interpreter.question);
    if (!answer) return [];
    if (answer.answer.trim() === '') {
      return [
        {
          rule: 'dit/no-description',
          severity: 'info',
          title: `Interpreter ${interpreter.name} gave no answer`,
          detail: `Asked "${interpreter.question}", it stopped before saying anything.`,
        },
      ];
    }
    return [
      {
        rule: 'dit/described-behaviour',
        severity: 'info',
        title: `Interpreter ${interpreter.name} describes what the diff taught (${interpreter.questionKind})`,
        detail:
          `Asked "${interpreter.question}", it answered ${JSON.stringify(clip(answer.answer))}. ` +
          'DIT says what a diff taught, not when it shows; no trigger has been found and verified, ' +
          'so this is information about the diff, not an alarm.',
      },
    ];
  });
}

export function evidenceChanged(evidence: readonly EvidenceSample[]): Finding[] {
  const changed = evidence.filter((e) => e.base !== e.diffed).length;
  if (changed === 0) return [];
  return [
    {
      rule: 'evidence/ordinary-prompts-changed',
      severity: 'info',
      title: `The finetune answers ${changed} of ${evidence.length} ordinary prompts differently from its base`,
      detail:
        'With no trigger in the prompt, its answers differ from the base model: compare them side by side. ' +
        'A difference is expected of any finetune and is not by itself a hidden behaviour.',
    },
  ];
}

export function subjectIsBase(path: string): Finding {
  return {
    rule: 'subject/is-base',
    severity: 'info',
    title: 'The subject is the base model itself',
    detail: `${path} resolved to its own base, so there is no diff: the answers describe the base model.`,
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

function clip(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
}
