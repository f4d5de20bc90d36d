// The execution providers, listed once: the engine tries them in this order under `auto`, and the
// CLI's choices, the settings, the audit request and the report's schema all read these lists.
export const PROVIDER_NAMES = ['cuda', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export const PROVIDER_PREFERENCES = ['auto', ...PROVIDER_NAMES] as const;
export type ProviderPreference = (typeof PROVIDER_PREFERENCES)[number];

/** How a report's provider reasons say CUDA's libraries are missing: each surface adds how to get them. */
export const CUDA_PROVIDER_MISSING = 'cuda: provider library not installed';
