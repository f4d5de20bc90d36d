// Checks a pasted OpenAI API key before it is stored (no VS Code API: tested directly).

/** Why a pasted key is not one (undefined when it looks like one); keys are never echoed back. */
export function openAiKeyProblem(value: string): string | undefined {
  const key = value.trim();
  if (key === '') return 'Paste the key, or press Escape.';
  if (/\s/.test(key)) return 'An API key has no spaces in it.';
  if (!key.startsWith('sk-')) return 'OpenAI API keys start with "sk-".';
  if (key.length < 20) return 'That is too short for an OpenAI API key.';
  return undefined;
}
