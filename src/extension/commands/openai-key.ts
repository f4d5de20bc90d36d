// Set / clear the OpenAI API key, kept in SecretStorage only, for the LLM judge still to come (see secrets.ts).
import * as vscode from 'vscode';
import type { Log } from '../log';
import { openAiKeyProblem } from '../openai-key';
import type { Secrets } from '../secrets';

export function registerSetOpenAiKey(secrets: Secrets, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.setOpenAiKey', async () => {
    const key = await vscode.window.showInputBox({
      title: 'OpenAI API key',
      prompt: "Stored in VS Code's secret storage (the OS keychain where there is one), never in settings.",
      placeHolder: 'sk-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: openAiKeyProblem,
    });
    if (key === undefined) return;
    await secrets.setOpenAiKey(key.trim());
    log.info('the OpenAI API key was stored in the secret storage');
    void vscode.window.showInformationMessage('OpenAI API key stored.');
  });
}

export function registerClearOpenAiKey(secrets: Secrets, log: Log): vscode.Disposable {
  return vscode.commands.registerCommand('ditAuditor.clearOpenAiKey', async () => {
    const had = (await secrets.getOpenAiKey()) !== undefined;
    await secrets.clearOpenAiKey();
    log.info(had ? 'the OpenAI API key was removed from the secret storage' : 'no OpenAI API key was stored');
    void vscode.window.showInformationMessage(
      had ? 'OpenAI API key removed.' : 'No OpenAI API key was stored.',
    );
  });
}
