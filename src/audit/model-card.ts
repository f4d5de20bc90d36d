// The `base_model` of a Hugging Face model card (README.md YAML front matter): a string or a list,
// inline or as `- item` lines. Only that key is read, so no YAML library is needed.

export function modelCardBaseModel(readme: string): string | undefined {
  const front = /^---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(readme);
  if (!front) return undefined;
  const lines = front[1].split(/\r?\n/);
  const at = lines.findIndex((l) => /^base_model\s*:/.test(l));
  if (at < 0) return undefined;
  const inline = lines[at].replace(/^base_model\s*:/, '').trim();
  if (inline.startsWith('[')) return unquote(inline.slice(1, inline.lastIndexOf(']')).split(',')[0] ?? '');
  if (inline !== '') return unquote(inline);
  const item = /^\s*-\s+(.*)$/.exec(lines[at + 1] ?? '');
  return item ? unquote(item[1]) : undefined;
}

function unquote(value: string): string | undefined {
  const v = value
    .replace(/\s+#.*$/, '')
    .trim()
    .replace(/^(['"])(.*)\1$/, '$2')
    .trim();
  return v === '' ? undefined : v;
}
