// The OpenAI API key lives in VS Code's SecretStorage: the OS keychain where there is one. Never in
// settings, never logged. The remote engine (ditAuditor.remoteEngine.url) sends it to its server.
import type * as vscode from 'vscode';

const OPENAI_KEY = 'ditAuditor.openaiApiKey';

export class Secrets {
  constructor(private readonly storage: vscode.SecretStorage) {}

  getOpenAiKey(): Thenable<string | undefined> {
    return this.storage.get(OPENAI_KEY);
  }

  setOpenAiKey(key: string): Thenable<void> {
    return this.storage.store(OPENAI_KEY, key);
  }

  clearOpenAiKey(): Thenable<void> {
    return this.storage.delete(OPENAI_KEY);
  }
}
