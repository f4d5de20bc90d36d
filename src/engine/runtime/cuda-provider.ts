// onnxruntime-node's CUDA provider is not in its npm package: two libraries that must lie beside
// its binding (onnxruntime loads them from there when a session asks for CUDA). Where that is, and
// whether they are there, without loading onnxruntime itself (the extension host asks too).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The provider and the bridge it loads through, from the same onnxruntime release (1.30). */
export const CUDA_PROVIDER_LIBRARIES = [
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_shared.so',
] as const;

export { CUDA_PROVIDER_MISSING } from './providers';

/** The folder of onnxruntime-node's binding for this platform, where the libraries belong. */
export function cudaProviderFolder(): string {
  const main = require.resolve('onnxruntime-node');
  return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaProviderInstalled(): boolean {
  return existsSync(join(cudaProviderFolder(), CUDA_PROVIDER_LIBRARIES[0]));
}
