// Codicons as VS Code's own views use them (the font ships in dist/codicons, linked by the page as
// vscode-codicon-stylesheet): a verdict's level, a finding's severity, a section's subject.
import { html, type TemplateResult } from 'lit';
import type { Severity, Verdict } from '../../src/audit/report';

export const VERDICT_ICONS: Readonly<Record<Verdict['level'], string>> = {
  error: 'error',
  warning: 'warning',
  overt: 'eye',
  described: 'info',
  clean: 'pass',
};

export const SEVERITY_ICONS: Readonly<Record<Severity, string>> = {
  error: 'error',
  warning: 'warning',
  info: 'info',
};

export const SECTION_ICONS = {
  answers: 'comment-discussion',
  triggers: 'key',
  statistics: 'graph',
  evidence: 'diff',
  models: 'package',
  execution: 'server-process',
} as const;

export function icon(name: string, className = ''): TemplateResult {
  return html`<vscode-icon name=${name} class=${`icon ${className}`.trim()} data-icon=${name}></vscode-icon>`;
}

/** A section's heading with its icon. */
export function heading(section: keyof typeof SECTION_ICONS, text: string): TemplateResult {
  return html`<h2>${icon(SECTION_ICONS[section])} ${text}</h2>`;
}
