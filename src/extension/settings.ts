// The extension's settings, read once per audit and checked against one schema each: a hand-edited
// settings.json may hold anything, and a wrong entry should be named and skipped, not crash an
// audit halfway. package.json declares the same settings for the editor (a test compares them).
import { z } from 'zod';
import type { InterpreterSpec } from '../audit/index';
import { DEFAULT_TOP_LOGPROBS } from '../audit/remote/remote-session';
import { QuestionKind } from '../audit/report';
import type { AuditRequest } from '../audit/request';
import { PRECISION_PREFERENCES, type PrecisionPreference } from '../engine/quant/precision';
import { PROVIDER_PREFERENCES, type ProviderPreference } from '../engine/runtime/providers';

export const SECTION = 'ditAuditor';

export interface AuditorSettings {
  /** Base model name (repo id, `base_model_name_or_path`) → local folder. */
  readonly modelMappings: Record<string, string>;
  /** Base model name → the DIT-adapters that read its diffs, each with its question. */
  readonly interpreterMappings: Record<string, InterpreterSpec[]>;
  readonly executionProvider: ProviderPreference;
  /** Weight precision of the engine (quant/precision.ts). */
  readonly precision: PrecisionPreference;
  /** A cap on every answer's length; undefined: each question's own length. */
  readonly maxNewTokens: number | undefined;
  /** Rows the trigger search may score; 0: no search; undefined: the search's default. */
  readonly triggerBudget: number | undefined;
  readonly extraQuestions: string[];
  /** Undefined: the audit's default prompts. */
  readonly evidencePrompts: string[] | undefined;
  readonly huggingFaceCacheFolders: string[];
  /** Flag unsafe pickles in the workspace (pickles/pickle-scanner.ts). */
  readonly scanPickles: boolean;
  /** Diagnostics on the lines of scripts and configs that name a checkpoint (references/). */
  readonly referenceDiagnostics: boolean;
  /** A hover with the report's summary on such a line. */
  readonly referenceHovers: boolean;
  /** Badges on checkpoint files and folders in the explorer: finding, clean, not audited. */
  readonly explorerBadges: boolean;
  /** Audit a checkpoint that is named or appears and has no report yet. Off by default: it is expensive. */
  readonly autoAudit: boolean;
  /** An OpenAI-compatible server that runs the audits' models; undefined: this machine's engine. */
  readonly remoteEngine:
    | {
        readonly url: string;
        readonly model?: string;
        readonly adapterFolder?: string;
        /** Top next-token log-probabilities the trigger search asks for per row. */
        readonly topLogprobs: number;
      }
    | undefined;
}

/** Reads one setting; `inspect`-free so that tests can pass a plain object. */
export type SettingReader = (key: string) => unknown;

const nonBlank = (s: string) => s.trim() !== '';
const NEEDS_PATH = 'needs a "path"';
const NEEDS_QUESTION = 'needs the "question" its adapter was trained on';

const folderSchema = z.string().refine(nonBlank);
const textSchema = z.string().refine(nonBlank);
const wholeNumberSchema = z.int().min(0);
const mappingSchema = z.record(z.string(), z.unknown());
const interpreterSpecSchema: z.ZodType<InterpreterSpec, unknown> = z.object(
  {
    path: z.string({ error: NEEDS_PATH }).refine(nonBlank, NEEDS_PATH),
    question: z.string({ error: NEEDS_QUESTION }).refine(nonBlank, NEEDS_QUESTION),
    questionKind: z
      .enum(QuestionKind.options, {
        error: `.questionKind must be one of ${QuestionKind.options.join(', ')}`,
      })
      .default('custom'),
  },
  { error: NEEDS_PATH },
);

/** Parses the settings; problems are collected (and the offending entries skipped), never thrown. */
export function readSettings(get: SettingReader): { settings: AuditorSettings; problems: string[] } {
  const problems: string[] = [];
  const name = (key: string) => `${SECTION}.${key}`;
  /** A setting's value, or `fallback` (named as a problem when the value was there but wrong). */
  const read = <T>(key: string, schema: z.ZodType<T, unknown>, fallback: T, problem: string): T => {
    const raw = get(key);
    if (raw === undefined || raw === null) return fallback;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    problems.push(`${name(key)} ${problem}`);
    return fallback;
  };
  const textList = (key: string): string[] => {
    const list = read(key, z.array(z.unknown()), [], 'must be a list of strings');
    const texts = list.flatMap((item) => textSchema.safeParse(item).data ?? []);
    if (texts.length !== list.length) problems.push(`${name(key)}: entries that are not text were ignored`);
    return texts;
  };

  const modelMappings: Record<string, string> = {};
  const models = read('modelMappings', mappingSchema, {}, 'must be an object of name → folder');
  for (const [base, folder] of Object.entries(models)) {
    const parsed = folderSchema.safeParse(folder);
    if (parsed.success) modelMappings[base] = parsed.data;
    else problems.push(`${name('modelMappings')}["${base}"] must be a folder path`);
  }

  const interpreterMappings: Record<string, InterpreterSpec[]> = {};
  const interpreters = read(
    'interpreterMappings',
    mappingSchema,
    {},
    'must be an object of base name → list of interpreters',
  );
  for (const [base, list] of Object.entries(interpreters)) {
    const where = `${name('interpreterMappings')}["${base}"]`;
    if (!Array.isArray(list)) {
      problems.push(`${where} must be a list of { path, question, questionKind }`);
      continue;
    }
    interpreterMappings[base] = list.flatMap((item: unknown, i) => {
      const parsed = interpreterSpecSchema.safeParse(item);
      if (parsed.success) return [parsed.data];
      const message = parsed.error.issues[0]?.message ?? NEEDS_PATH;
      problems.push(`${where}[${i}]${message.startsWith('.') ? '' : ' '}${message}`);
      return [];
    });
  }

  const executionProvider = read(
    'executionProvider',
    z.enum(PROVIDER_PREFERENCES),
    'auto',
    `must be one of ${PROVIDER_PREFERENCES.join(', ')}; using auto`,
  );
  const precision = read(
    'precision',
    z.enum(PRECISION_PREFERENCES),
    'auto',
    `must be one of ${PRECISION_PREFERENCES.join(', ')}; using auto`,
  );
  const maxNewTokens = read(
    'maxNewTokens',
    wholeNumberSchema,
    0,
    "must be a whole number (0: each question's own length)",
  );
  const evidence = get('evidencePrompts');
  return {
    settings: {
      modelMappings,
      interpreterMappings,
      executionProvider,
      precision,
      maxNewTokens: maxNewTokens === 0 ? undefined : maxNewTokens,
      triggerBudget: read(
        'triggerSearchBudget',
        wholeNumberSchema,
        undefined,
        'must be a whole number (0: no trigger search)',
      ),
      extraQuestions: textList('extraQuestions'),
      evidencePrompts: evidence === undefined || evidence === null ? undefined : textList('evidencePrompts'),
      huggingFaceCacheFolders: textList('huggingFaceCacheFolders'),
      scanPickles: read('scanPickles', z.boolean(), true, 'must be true or false; scanning'),
      referenceDiagnostics: read(
        'referenceDiagnostics',
        z.boolean(),
        true,
        'must be true or false; showing them',
      ),
      referenceHovers: read('referenceHovers', z.boolean(), true, 'must be true or false; showing them'),
      explorerBadges: read('explorerBadges', z.boolean(), true, 'must be true or false; showing them'),
      autoAudit: read('autoAudit', z.boolean(), false, 'must be true or false; not auditing automatically'),
      remoteEngine: remoteEngineOf(
        read('remoteEngine.url', z.string(), '', 'must be a URL; using the local engine'),
        read('remoteEngine.model', z.string(), '', 'must be text; using the first model the server lists'),
        read('remoteEngine.adapterFolder', z.string(), '', 'must be a folder path; using the temp folder'),
        read(
          'remoteEngine.topLogprobs',
          z.int().min(1),
          DEFAULT_TOP_LOGPROBS,
          `must be a whole number of at least 1; using ${DEFAULT_TOP_LOGPROBS}`,
        ),
        problems,
      ),
    },
    problems,
  };
}

function remoteEngineOf(
  url: string,
  model: string,
  adapterFolder: string,
  topLogprobs: number,
  problems: string[],
): AuditorSettings['remoteEngine'] {
  if (url.trim() === '') return undefined;
  if (!/^https?:\/\/\S+$/.test(url.trim())) {
    problems.push(`${SECTION}.remoteEngine.url must be an http(s) URL; using the local engine`);
    return undefined;
  }
  return {
    url: url.trim(),
    ...(model.trim() ? { model: model.trim() } : {}),
    ...(adapterFolder.trim() ? { adapterFolder: adapterFolder.trim() } : {}),
    topLogprobs,
  };
}

/** What the settings ask of every audit. */
export function auditTuning(settings: AuditorSettings): Omit<AuditRequest, 'subject'> {
  return {
    extraQuestions: settings.extraQuestions,
    maxNewTokens: settings.maxNewTokens,
    triggerBudget: settings.triggerBudget,
    provider: settings.executionProvider,
    precision: settings.precision,
    evidencePrompts: settings.evidencePrompts,
  };
}
