// Every kind of finding an audit makes, once: its id (a finding's `rule`), a name, and what it
// means. SARIF's rules and the docs read this list; a test checks that findings use only these ids.
import type { Severity } from './report';

export interface FindingRule {
  /** PascalCase, as SARIF's reportingDescriptor.name wants it. */
  readonly name: string;
  /** The severity its findings have (SARIF's default configuration). */
  readonly severity: Severity;
  readonly summary: string;
  readonly description: string;
}

export const FINDING_RULES = {
  'pickle/unsafe-global': {
    name: 'UnsafePickleGlobal',
    severity: 'error',
    summary: 'Unsafe pickle: loading this file would run code',
    description:
      'The torch.save file names globals outside the allowlist of tensor-rebuilding ones, so torch.load without weights_only would call them. dit-auditor read its opcodes only; nothing was loaded or run.',
  },
  'trigger/hidden-behaviour': {
    name: 'HiddenBehaviour',
    severity: 'warning',
    summary: 'Hidden behaviour with a verified trigger',
    description:
      'The interpreter described a behaviour, the trigger search found a prompt prefix that brings it out, and side-by-side generations verified it: with the trigger the diffed model shows it, without it and in the base model it does not.',
  },
  'trigger/none-verified': {
    name: 'NoTriggerVerified',
    severity: 'info',
    summary: 'Described behaviour, no trigger verified',
    description:
      'The trigger search scored its budget of candidate prefixes and verified none: the described behaviour may still have a trigger the search did not reach.',
  },
  'dit/described-behaviour': {
    name: 'DescribedBehaviour',
    severity: 'info',
    summary: 'The interpreter describes what the diff taught',
    description:
      'A DIT-adapter stacked on the diffed model answered its question: what the finetune taught, in words. DIT says what a diff taught, not when it shows.',
  },
  'dit/no-description': {
    name: 'NoDescription',
    severity: 'info',
    summary: 'The interpreter gave no answer',
    description: 'The DIT-adapter stopped before saying anything.',
  },
  'evidence/ordinary-prompts-changed': {
    name: 'OrdinaryPromptsChanged',
    severity: 'info',
    summary: 'The finetune answers ordinary prompts differently from its base',
    description:
      'With no trigger in the prompt, its answers differ from the base model. A difference is expected of any finetune and is not by itself a hidden behaviour.',
  },
  'subject/is-base': {
    name: 'SubjectIsBase',
    severity: 'info',
    summary: 'The subject is the base model itself',
    description: 'There is no diff to interpret: the checkpoint audited is the base model.',
  },
} as const satisfies Record<string, FindingRule>;

export type FindingRuleId = keyof typeof FINDING_RULES;
export const FINDING_RULE_IDS = Object.keys(FINDING_RULES) as FindingRuleId[];
