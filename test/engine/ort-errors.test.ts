// onnxruntime's errors as a user reads them: no C++ source locations or failed conditions.
import { expect, it } from 'vitest';
import { ortErrorSummary } from '../../src/engine/runtime/ort-errors';

it('says in plain words that no GPU adapter was found', () => {
  const dawn =
    '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
  expect(ortErrorSummary(new Error(dawn))).toBe('no GPU adapter found');
});

it('keeps what went wrong and drops where in the C++ it was noticed', () => {
  expect(
    ortErrorSummary(
      new Error(
        '[ErrorCode:Fail] /onnxruntime_src/onnxruntime/core/session/inference_session.cc:2112 SomeFn() x == y was false. The model is broken\nsecond line',
      ),
    ),
  ).toBe('The model is broken');
  expect(ortErrorSummary('plain message')).toBe('plain message');
});
