// The extension's log: a LogOutputChannel (levels, timestamps, `Developer: Set Log Level`).
import * as vscode from 'vscode';

export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('DIT Auditor', { log: true });
}

/** An error as one line for the log and for messages; the stack goes to the log at debug level. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0];
  return String(error);
}
