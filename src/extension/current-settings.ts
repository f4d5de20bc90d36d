// The settings as an audit reads them now, from the workspace configuration.
import * as vscode from 'vscode';
import type { Log } from './log';
import { type AuditorSettings, readSettings, SECTION } from './settings';

/** The settings as they are now; their problems go to the log. */
export function currentSettings(log: Log): AuditorSettings {
  const { settings, problems } = readSettings((k) => vscode.workspace.getConfiguration(SECTION).get(k));
  for (const p of problems) log.warn(`settings: ${p}`);
  return settings;
}
