// Checks the settings when they change, so a malformed mapping is reported when it is written, not
// halfway through the next audit.
import * as vscode from 'vscode';
import type { Log } from './log';
import { readSettings, SECTION } from './settings';

export function watchSettings(log: Log): vscode.Disposable {
  const check = (why: string) => {
    const { settings, problems } = readSettings((k) => vscode.workspace.getConfiguration(SECTION).get(k));
    log.info(
      `settings ${why}: ${Object.keys(settings.modelMappings).length} model mappings, ` +
        `${Object.keys(settings.interpreterMappings).length} interpreter mappings, provider ${settings.executionProvider}, ` +
        `${settings.extraQuestions.length} extra questions, max new tokens ${settings.maxNewTokens ?? 'per question'}`,
    );
    for (const p of problems) log.warn(`settings: ${p}`);
    if (problems.length > 0 && why === 'changed') {
      void vscode.window
        .showWarningMessage(
          `DIT Auditor settings: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`,
          'Show Log',
        )
        .then((choice) => {
          if (choice === 'Show Log') log.show();
        });
    }
  };
  check('read');
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(SECTION)) check('changed');
  });
}
