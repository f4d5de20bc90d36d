// The report panel's style sheet. The panel's CSP forbids inline styles: everything that varies
// (a verdict's level, a heat-map cell's intensity) is a class defined here.
import { css, unsafeCSS } from 'lit';

/** How strongly heat-1 … heat-8 (format.ts's `level`) mix the chart colour into a cell, in %. */
const HEAT_MIX = [11, 21, 32, 42, 53, 64, 74, 85];

// Numbers only, so unsafeCSS takes nothing from outside.
const heatLevels = unsafeCSS(
  HEAT_MIX.map(
    (percent, i) =>
      `.heat-${i + 1} { background: color-mix(in srgb, var(--vscode-charts-orange) ${percent}%, transparent); }`,
  ).join('\n'),
);

export const reportStyles = css`
  :host {
    display: block;
    max-width: 1100px;
    padding: 8px 20px 32px;
    color: var(--vscode-foreground);
    font-family: var(--vscode-font-family);
    font-size: var(--vscode-font-size);
    line-height: 1.45;
  }
  h1 {
    font-size: 1.5em;
    font-weight: 600;
    margin: 12px 0 4px;
    overflow-wrap: anywhere;
  }
  h2 {
    font-size: 1.15em;
    font-weight: 600;
    margin: 0 0 8px;
  }
  h3 {
    font-size: 1em;
    font-weight: 600;
    margin: 12px 0 4px;
  }
  .subtitle,
  .muted {
    color: var(--vscode-descriptionForeground);
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 8px;
    margin: 12px 0;
  }
  .verdict {
    border-left: 4px solid var(--vscode-charts-green, var(--vscode-focusBorder));
    background: var(--vscode-textBlockQuote-background);
    padding: 10px 14px;
    margin: 12px 0;
  }
  .verdict.warning {
    border-left-color: var(--vscode-editorWarning-foreground);
  }
  .verdict.described,
  .verdict.overt {
    border-left-color: var(--vscode-editorInfo-foreground);
  }
  .verdict.error {
    border-left-color: var(--vscode-editorError-foreground);
  }
  .verdict-label {
    font-weight: 600;
    font-size: 1.1em;
    display: flex;
    align-items: center;
    gap: 6px;
  }
  .level-error {
    color: var(--vscode-editorError-foreground);
  }
  .level-warning {
    color: var(--vscode-editorWarning-foreground);
  }
  .level-described,
  .level-overt {
    color: var(--vscode-editorInfo-foreground);
  }
  .level-clean {
    color: var(--vscode-testing-iconPassed, var(--vscode-charts-green));
  }
  h2 {
    display: flex;
    align-items: center;
    gap: 6px;
  }
  vscode-icon.icon {
    flex: none;
  }
  .question-row {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 8px;
  }
  .word-removed {
    background: var(--vscode-diffEditor-removedTextBackground);
    outline: 1px dashed var(--vscode-diffEditor-removedTextBorder, transparent);
  }
  .word-added {
    background: var(--vscode-diffEditor-insertedTextBackground);
    outline: 1px dashed var(--vscode-diffEditor-insertedTextBorder, transparent);
  }
  section {
    margin: 20px 0;
  }
  .output {
    font-family: var(--vscode-editor-font-family);
    font-size: var(--vscode-editor-font-size);
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    background: var(--vscode-textCodeBlock-background);
    border-radius: 4px;
    padding: 6px 8px;
    margin: 4px 0;
  }
  .empty-output {
    font-style: italic;
    color: var(--vscode-descriptionForeground);
  }
  .qa {
    border-bottom: 1px solid var(--vscode-panel-border, transparent);
    padding: 8px 0;
  }
  .question {
    font-weight: 600;
  }
  .side-by-side {
    display: grid;
    grid-template-columns: 1fr 1fr;
    gap: 12px;
  }
  @media (max-width: 640px) {
    .side-by-side {
      grid-template-columns: 1fr;
    }
  }
  .column-label {
    color: var(--vscode-descriptionForeground);
    font-size: 0.9em;
    text-transform: uppercase;
    letter-spacing: 0.04em;
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  th,
  td {
    text-align: left;
    vertical-align: top;
    padding: 4px 12px 4px 0;
    border-bottom: 1px solid var(--vscode-panel-border, transparent);
    overflow-wrap: anywhere;
  }
  th {
    font-weight: 600;
    white-space: nowrap;
    width: 1%;
  }
  .identity {
    margin-bottom: 16px;
  }
  .identity-head {
    display: flex;
    align-items: center;
    gap: 8px;
    flex-wrap: wrap;
  }
  code {
    font-family: var(--vscode-editor-font-family);
  }
  .finding {
    margin: 6px 0;
    display: grid;
    grid-template-columns: auto 1fr auto;
    column-gap: 6px;
    align-items: baseline;
  }
  .finding-title {
    font-weight: 600;
  }
  .finding-detail {
    grid-column: 2 / 4;
  }
  .severity-label {
    text-transform: capitalize;
  }
  .severity-error {
    color: var(--vscode-editorError-foreground);
  }
  .severity-warning {
    color: var(--vscode-editorWarning-foreground);
  }
  .severity-info {
    color: var(--vscode-editorInfo-foreground);
  }
  .notice {
    color: var(--vscode-descriptionForeground);
    align-self: center;
  }
  .problem {
    color: var(--vscode-errorForeground);
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  vscode-progress-bar {
    margin: 12px 0;
  }
  ul {
    margin: 4px 0;
    padding-left: 20px;
  }
  .three-way {
    display: grid;
    grid-template-columns: 1fr 1fr 1fr;
    gap: 12px;
  }
  @media (max-width: 800px) {
    .three-way {
      grid-template-columns: 1fr;
    }
  }
  .heatmap td,
  .heatmap th {
    text-align: center;
    width: auto;
    padding: 3px 6px;
    font-variant-numeric: tabular-nums;
  }
  .heatmap td.cell {
    min-width: 56px;
    border: 1px solid var(--vscode-panel-border, transparent);
  }
  ${heatLevels}
  .heatmap td.unchanged {
    color: var(--vscode-descriptionForeground);
  }
  .verified {
    color: var(--vscode-editorWarning-foreground);
    font-weight: 600;
  }
`;
