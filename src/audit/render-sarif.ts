// Reports as one SARIF 2.1.0 log, for GitHub code scanning and any SARIF viewer: one rule per kind
// of finding (finding-rules.ts), each result located on the checkpoint's own file, line 1 (code
// scanning shows only results with a line). A checkpoint is a folder or a binary file: a folder is
// located on its config (adapter_config.json, config.json), a binary file as a whole.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { FINDING_RULE_IDS, FINDING_RULES, type FindingRuleId } from './finding-rules';
import type { AuditReport, CheckpointIdentity, Finding, Severity } from './report';
import { ENGINE_VERSION } from './version';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const SOURCE_ROOT = '%SRCROOT%';

const LEVELS: Record<Severity, Sarif.Result.level> = { error: 'error', warning: 'warning', info: 'note' };

export interface SarifOptions {
  /** Paths are written relative to this folder (the repository's root); others as file URIs. */
  readonly root: string;
  /** Checkpoints that could not be audited, with why: reported as tool notifications. */
  readonly failures?: readonly { readonly path: string; readonly message: string }[];
}

export function renderReportsSarif(reports: readonly AuditReport[], options: SarifOptions): Sarif.Log {
  const results = reports.flatMap((report) => report.findings.map((f) => resultOf(f, report, options.root)));
  const failures = options.failures ?? [];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'dit-auditor',
            version: ENGINE_VERSION,
            semanticVersion: ENGINE_VERSION,
            rules: FINDING_RULE_IDS.map(ruleOf),
          },
        },
        originalUriBaseIds: { [SOURCE_ROOT]: { uri: pathToFileURL(`${options.root}${sep}`).href } },
        invocations: [
          {
            executionSuccessful: failures.length === 0,
            toolExecutionNotifications: failures.map((f) => ({
              level: 'error',
              message: { text: `${f.path} could not be audited: ${f.message}` },
            })),
          },
        ],
        results,
      },
    ],
  };
}

function ruleOf(id: FindingRuleId): Sarif.ReportingDescriptor {
  const rule = FINDING_RULES[id];
  return {
    id,
    name: rule.name,
    shortDescription: { text: rule.summary },
    fullDescription: { text: rule.description },
    help: { text: rule.description },
    defaultConfiguration: { level: LEVELS[rule.severity] },
  };
}

function resultOf(finding: Finding, report: AuditReport, root: string): Sarif.Result {
  const ruleIndex = FINDING_RULE_IDS.indexOf(finding.rule as FindingRuleId);
  return {
    ruleId: finding.rule,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVELS[finding.severity],
    message: { text: `${finding.title}. ${finding.detail}` },
    locations: [locationOf(report.subject, root)],
    partialFingerprints: { 'ditAuditorFinding/v1': fingerprint(finding, report.subject) },
    properties: { verdict: report.verdict.label, checkpoint: report.subject.name },
  };
}

/** The file a finding is shown on: a folder's config (text, line 1 to its end) or the binary file. */
function locationOf(subject: CheckpointIdentity, root: string): Sarif.Location {
  const config =
    subject.kind === 'peft-adapter'
      ? 'adapter_config.json'
      : subject.kind === 'full-finetune' || subject.kind === 'model'
        ? 'config.json'
        : undefined;
  const file = config === undefined ? subject.path : join(subject.path, config);
  const region: Sarif.Region =
    config === undefined
      ? { startLine: 1, byteOffset: 0, byteLength: subject.bytes }
      : { startLine: 1, endLine: lineCount(file) };
  return { physicalLocation: { artifactLocation: artifactOf(file, root), region } };
}

function artifactOf(file: string, root: string): Sarif.ArtifactLocation {
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { uri: pathToFileURL(file).href };
  return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SOURCE_ROOT };
}

function lineCount(file: string): number {
  try {
    const text = readFileSync(file, 'utf8');
    return Math.max(1, text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
  } catch {
    return 1;
  }
}

/** The same finding on the same content (and entry) keeps its fingerprint across runs and moves. */
function fingerprint(finding: Finding, subject: CheckpointIdentity): string {
  return createHash('sha256')
    .update(JSON.stringify([finding.rule, finding.title, subject.sha256, subject.entry ?? null]))
    .digest('hex');
}
