// The remote engine the settings name (ditAuditor.remoteEngine.*), with the key SecretStorage holds:
// audits and branch reviews run their models there when it is set.
import type { RemoteEndpoint } from '../audit/remote/remote-session';
import type { Secrets } from './secrets';
import type { AuditorSettings } from './settings';

export async function remoteEndpointOf(
  settings: AuditorSettings,
  secrets: Secrets,
): Promise<RemoteEndpoint | undefined> {
  const remote = settings.remoteEngine;
  if (!remote) return undefined;
  return {
    baseURL: remote.url,
    model: remote.model,
    adapterDir: remote.adapterFolder,
    topLogprobs: remote.topLogprobs,
    apiKey: await secrets.getOpenAiKey(),
  };
}
