// onnxruntime-node 1.30's Linux build carries Microsoft's 1DS telemetry: a process that holds a
// session writes `deviceid` and `onnxruntime.db` under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/
// and, after about ten seconds, resolves mobile.events.data.microsoft.com to upload to it. An
// auditing tool run on private checkpoints asks for no such call. ORT_DISABLE_TELEMETRY=1 in the
// environment turns it all off (measured: no socket, no file). ORT reads it with getenv, so it has
// to be in the process's real environment before the first session: a worker thread's process.env
// is a copy that getenv never sees, so this runs on the main thread, before the engine's worker
// starts (engine.ts) and wherever onnxruntime-node is imported (ort-session.ts). A value the user
// set is kept.
import { isMainThread } from 'node:worker_threads';

export const TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

export function disableOrtTelemetry(): void {
  if (isMainThread) process.env[TELEMETRY_VARIABLE] ??= '1';
}
