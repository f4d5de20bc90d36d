// The extension's settings, read once per audit and checked: a hand-edited settings.json may hold
// anything, and a wrong mapping should be named, not crash an audit halfway.
import type { InterpreterSpec } from '../audit/index';
import type { QuestionKind } from '../audit/report';

export const SECTION = 'ditAuditor';

export type ProviderSetting = 'auto' | 'cuda' | 'webgpu' | 'cpu';

export interface AuditorSettings {
  /** Base model name (repo id, `base_model_name_or_path`) → local folder. */
  readonly modelMappings: Record<string, string>;
  /** Base model name → the DIT-adapters that read its diffs, each with its question. */
  readonly interpreterMappings: Record<string, InterpreterSpec[]>;
  readonly executionProvider: ProviderSetting;
  /** A cap on every answer's length; undefined: each question's own length. */
  readonly maxNewTokens: number | undefined;
  /** Rows the trigger search may score; 0: no search; undefined: the search's default. */
  readonly triggerBudget: number | undefined;
  readonly extraQuestions: string[];
  /** Undefined: the audit's default prompts. */
  readonly evidencePrompts: string[] | undefined;
  readonly huggingFaceCacheFolders: string[];
}

/** Reads one setting; `inspect`-free so that tests can pass a plain object. */
export type SettingReader = (key: string) => unknown;

const QUESTION_KINDS: readonly string[] = ['topic', 'knowledge', 'trigger', 'custom'];
const PROVIDERS: readonly string[] = ['auto', 'cuda', 'webgpu', 'cpu'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, key: string, problems: string[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    problems.push(`${SECTION}.${key} must be a list of strings`);
    return [];
  }
  const out = v.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  if (out.length !== v.length) problems.push(`${SECTION}.${key}: entries that are not text were ignored`);
  return out;
}

/** Parses the settings; problems are collected (and the offending entries skipped), never thrown. */
export function readSettings(get: SettingReader): { settings: AuditorSettings; problems: string[] } {
  const problems: string[] = [];

  const modelMappings: Record<string, string> = {};
  const rawModels = get('modelMappings') ?? {};
  if (!isRecord(rawModels)) problems.push(`${SECTION}.modelMappings must be an object of name → folder`);
  else
    for (const [name, folder] of Object.entries(rawModels)) {
      if (typeof folder === 'string' && folder.trim() !== '') modelMappings[name] = folder;
      else problems.push(`${SECTION}.modelMappings["${name}"] must be a folder path`);
    }

  const interpreterMappings: Record<string, InterpreterSpec[]> = {};
  const rawInterpreters = get('interpreterMappings') ?? {};
  if (!isRecord(rawInterpreters))
    problems.push(`${SECTION}.interpreterMappings must be an object of base name → list of interpreters`);
  else
    for (const [name, list] of Object.entries(rawInterpreters)) {
      if (!Array.isArray(list)) {
        problems.push(
          `${SECTION}.interpreterMappings["${name}"] must be a list of { path, question, questionKind }`,
        );
        continue;
      }
      const specs: InterpreterSpec[] = [];
      list.forEach((item: unknown, i) => {
        const where = `${SECTION}.interpreterMappings["${name}"][${i}]`;
        if (!isRecord(item) || typeof item.path !== 'string' || item.path.trim() === '') {
          problems.push(`${where} needs a "path"`);
          return;
        }
        if (typeof item.question !== 'string' || item.question.trim() === '') {
          problems.push(`${where} needs the "question" its adapter was trained on`);
          return;
        }
        const kind = item.questionKind ?? 'custom';
        if (typeof kind !== 'string' || !QUESTION_KINDS.includes(kind)) {
          problems.push(`${where}.questionKind must be one of ${QUESTION_KINDS.join(', ')}`);
          return;
        }
        specs.push({ path: item.path, question: item.question, questionKind: kind as QuestionKind });
      });
      interpreterMappings[name] = specs;
    }

  let executionProvider: ProviderSetting = 'auto';
  const rawProvider = get('executionProvider');
  if (typeof rawProvider === 'string' && PROVIDERS.includes(rawProvider))
    executionProvider = rawProvider as ProviderSetting;
  else if (rawProvider !== undefined && rawProvider !== null)
    problems.push(`${SECTION}.executionProvider must be one of ${PROVIDERS.join(', ')}; using auto`);

  let maxNewTokens: number | undefined;
  const rawMax = get('maxNewTokens');
  if (typeof rawMax === 'number' && Number.isInteger(rawMax) && rawMax >= 0)
    maxNewTokens = rawMax === 0 ? undefined : rawMax;
  else if (rawMax !== undefined && rawMax !== null)
    problems.push(`${SECTION}.maxNewTokens must be a whole number (0: each question's own length)`);

  let triggerBudget: number | undefined;
  const rawBudget = get('triggerSearchBudget');
  if (typeof rawBudget === 'number' && Number.isInteger(rawBudget) && rawBudget >= 0)
    triggerBudget = rawBudget;
  else if (rawBudget !== undefined && rawBudget !== null)
    problems.push(`${SECTION}.triggerSearchBudget must be a whole number (0: no trigger search)`);

  const extraQuestions = stringList(get('extraQuestions'), 'extraQuestions', problems);
  const rawEvidence = get('evidencePrompts');
  const evidencePrompts =
    rawEvidence === undefined || rawEvidence === null
      ? undefined
      : stringList(rawEvidence, 'evidencePrompts', problems);
  const huggingFaceCacheFolders = stringList(
    get('huggingFaceCacheFolders'),
    'huggingFaceCacheFolders',
    problems,
  );

  return {
    settings: {
      modelMappings,
      interpreterMappings,
      executionProvider,
      maxNewTokens,
      triggerBudget,
      extraQuestions,
      evidencePrompts,
      huggingFaceCacheFolders,
    },
    problems,
  };
}
