// "Install CUDA Provider Libraries…": onnxruntime-node's CUDA provider is not in the VSIX (it is a
// ~400 MB download of its own). The user points at a folder holding onnxruntime 1.30's two provider
// libraries (from the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux, runtimes/linux-x64/native/,
// or an onnxruntime-gpu 1.30 wheel, onnxruntime/capi/), and they are copied beside the binding that
// the extension ships, where onnxruntime looks for them. CUDA 12 and cuDNN 9 must be installed.
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CUDA_PROVIDER_LIBRARIES, cudaProviderFolder } from '../../engine/runtime/cuda-provider';
import { describeError, type Log } from '../log';

export const INSTALL_CUDA_PROVIDER_COMMAND = 'ditAuditor.installCudaProvider';
const ORT_VERSION = '1.30';

export function registerInstallCudaProvider(log: Log): vscode.Disposable {
  return vscode.commands.registerCommand(INSTALL_CUDA_PROVIDER_COMMAND, async () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      void vscode.window.showInformationMessage(
        `The CUDA provider is offered for Linux x64; this extension host runs on ${process.platform} ${process.arch}.`,
      );
      return;
    }
    const choose = 'Choose Folder…';
    const choice = await vscode.window.showInformationMessage(
      'Use the CUDA execution provider',
      {
        modal: true,
        detail:
          `Choose a folder that holds ${CUDA_PROVIDER_LIBRARIES.join(' and ')} of onnxruntime ${ORT_VERSION}: ` +
          `runtimes/linux-x64/native/ of the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux ${ORT_VERSION}.x, ` +
          `or onnxruntime/capi/ of an onnxruntime-gpu ${ORT_VERSION}.x wheel. They are copied into the extension ` +
          '(an update of the extension removes them). CUDA 12 and cuDNN 9 must be installed.',
      },
      choose,
    );
    if (choice !== choose) return;
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      title: `Folder with ${CUDA_PROVIDER_LIBRARIES[0]}`,
      openLabel: 'Use These Libraries',
    });
    const from = picked?.[0]?.fsPath;
    if (from === undefined) return;
    const to = cudaProviderFolder();
    const missing = CUDA_PROVIDER_LIBRARIES.filter((name) => !existsSync(join(from, name)));
    if (missing.length > 0) {
      void vscode.window.showErrorMessage(`${from} does not hold ${missing.join(' or ')}.`);
      return;
    }
    try {
      for (const name of CUDA_PROVIDER_LIBRARIES) await copyFile(join(from, name), join(to, name));
    } catch (e) {
      const message = `Could not place the CUDA provider libraries: ${describeError(e)}`;
      log.error(message);
      void vscode.window.showErrorMessage(message);
      return;
    }
    log.info(`copied ${CUDA_PROVIDER_LIBRARIES.join(', ')} from ${from} to ${to}`);
    void vscode.window.showInformationMessage(
      'The CUDA provider libraries are in place: the next audit tries CUDA first (with "ditAuditor.executionProvider" auto or cuda), and its report says whether it ran.',
    );
  });
}
