// The pickle-scan worker: reads a torch file's pickle opcodes with the engine's allowlist reader
// (nothing in it is ever executed) and names the globals outside the allowlist.
import { parentPort } from 'node:worker_threads';
import { describeTorchFile } from '../../engine/checkpoint/torch-layouts';
import type { ScanReply, ScanRequest } from './scan-protocol';

const port = parentPort;
if (port === null) throw new Error('the pickle-scan worker runs as a worker thread');

port.on('message', async (request: ScanRequest) => {
  let reply: ScanReply;
  try {
    const described = await describeTorchFile(request.path);
    reply = {
      id: request.id,
      ok: true,
      forbidden: [...described.forbiddenGlobals],
      legacy: described.format === 'legacy',
    };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
