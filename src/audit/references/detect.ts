// Which detector reads a file, by its name: Python scripts, YAML and JSON configs (a PEFT
// `adapter_config.json` among them), and Markdown model cards' front matter.
import { basename, extname } from 'node:path';
import { detectFrontMatterReferences, detectJsonReferences, detectYamlReferences } from './detect-config';
import { detectPythonReferences } from './detect-python';
import type { TextReference } from './reference';

export const REFERENCE_LANGUAGES = ['python', 'yaml', 'json', 'markdown'] as const;
export type ReferenceLanguage = (typeof REFERENCE_LANGUAGES)[number];

const BY_EXTENSION: Record<string, ReferenceLanguage> = {
  '.py': 'python',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
  '.jsonc': 'json',
  '.md': 'markdown',
};

/** The glob of the files that can hold references, for a file watcher or a workspace search. */
export const REFERENCE_FILES_GLOB = `**/*.{${Object.keys(BY_EXTENSION)
  .map((e) => e.slice(1))
  .join(',')}}`;

export function referenceLanguageOf(fileName: string): ReferenceLanguage | undefined {
  return BY_EXTENSION[extname(basename(fileName)).toLowerCase()];
}

export function detectReferences(text: string, language: ReferenceLanguage): TextReference[] {
  switch (language) {
    case 'python':
      return detectPythonReferences(text);
    case 'yaml':
      return detectYamlReferences(text);
    case 'json':
      return detectJsonReferences(text);
    case 'markdown':
      return detectFrontMatterReferences(text);
  }
}
