// The resolver's questions to the user, when nothing else found a base model or an interpreter.
import * as vscode from 'vscode';
import type { ResolverQuestion } from '../audit/resolver';
import { CHECKPOINT_FILE_EXTENSIONS } from '../engine/checkpoint/classify';
import { SECTION } from './settings';

/** The resolver's question to the user: a modal that says what is missing, then an open dialog. */
export async function askForPath(q: ResolverQuestion): Promise<string | undefined> {
  const folder = 'Choose Folder…';
  const file = 'Choose File…';
  const buttons = q.kind === 'base' ? [folder] : [folder, file];
  const detail =
    q.kind === 'base'
      ? `Choose the folder of ${q.name} (config.json, safetensors weights and tokenizer.json). It will be remembered in the "${SECTION}.modelMappings" setting.`
      : `Choose the DIT-adapter that reads diffs of ${q.name}: a PEFT adapter folder or a dit-adapter.pt file. It will be remembered in the "${SECTION}.interpreterMappings" setting, with the topic question.`;
  const choice = await vscode.window.showWarningMessage(
    `${capitalize(q.reason)}.`,
    { modal: true, detail },
    ...buttons,
  );
  if (choice === undefined) return undefined;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: choice === folder,
    canSelectFiles: choice === file,
    canSelectMany: false,
    ...(q.near ? { defaultUri: startFolder(q.near) } : {}),
    title: q.kind === 'base' ? `Folder of base model ${q.name}` : `DIT-adapter for ${q.name}`,
    openLabel: q.kind === 'base' ? 'Use as Base Model' : 'Use as Interpreter',
    ...(choice === file
      ? { filters: { 'DIT-adapter': CHECKPOINT_FILE_EXTENSIONS.map((e) => e.slice(1)) } }
      : {}),
  });
  return picked?.[0]?.fsPath;
}

/** The dialog opens in the workspace folder that holds the checkpoint, else beside it. */
function startFolder(near: string): vscode.Uri {
  const uri = vscode.Uri.file(near);
  return vscode.workspace.getWorkspaceFolder(uri)?.uri ?? uri;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
