// The OpenAI API key lives in VS Code's SecretStorage: the OS keychain where there is one. Never in
// settings, never logged. Nothing reads it yet: what will (the open issue "The LLM side: judge,
// black-box baselines, and auditing at scale on an OpenAI-compatible server") is not built; the
// commands that store and clear it stay so that its contract (secret storage only) is settled first.
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
