// onnxruntime's errors as a user reads them: its C++ source location, function signature and
// failed condition dropped, and the known failures said in plain words.

const PLAIN: readonly (readonly [RegExp, string])[] = [
  [/Failed to get a WebGPU adapter|No supported adapters?/i, 'no GPU adapter found'],
];

/** One line: `…/webgpu_context.cc:136 … was false. Failed to get a WebGPU adapter` → `no GPU adapter found`. */
export function ortErrorSummary(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
  for (const [pattern, plain] of PLAIN) if (pattern.test(first)) return plain;
  // `[ErrorCode:Fail] /path/file.cc:123 signature condition was false. What went wrong`
  const failed = first.lastIndexOf(WAS_FALSE);
  if (failed >= 0) return first.slice(failed + WAS_FALSE.length).trim();
  return first.replace(/^(?:\[ErrorCode:\w+\]\s*)?\S+\.(?:cc|cpp|h):\d+\s+/, '').trim();
}

const WAS_FALSE = ' was false. ';
