// What a CLI user can do about an engine message that does not know which surface shows it.
import { CUDA_PROVIDER_MISSING } from '../engine/runtime/cuda-provider';

/** onnxruntime-node's own installer, which package.json's allowScripts keeps from running on npm ci. */
export const CUDA_INSTALL_ADVICE =
  'install it from a clone with ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install (needs CUDA 12 and cuDNN 9)';

export function withCliAdvice(message: string): string {
  return message.startsWith(CUDA_PROVIDER_MISSING) ? `${message}; ${CUDA_INSTALL_ADVICE}` : message;
}
