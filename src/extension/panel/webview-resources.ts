// What the extension's webviews load from the install folder: the panel's script, the codicon font
// (dist/codicons, copied there by the build) and the editor tab's icon.
import * as vscode from 'vscode';

export function webviewResources(webview: vscode.Webview, extensionUri: vscode.Uri) {
  const at = (...path: string[]) =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...path)).toString();
  return { scriptUri: at('dist', 'webview.js'), codiconsUri: at('dist', 'codicons', 'codicon.css') };
}

/** The tab icon of the report and review panels, for light and dark themes. */
export function panelIcon(extensionUri: vscode.Uri): { light: vscode.Uri; dark: vscode.Uri } {
  return {
    light: vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'audit-light.svg'),
    dark: vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'audit-dark.svg'),
  };
}
