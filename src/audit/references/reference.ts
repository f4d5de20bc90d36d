// A place in a text file that names a checkpoint: the string as written and where it lies (UTF-16
// offsets of the string's content, without its quotes), so an editor can put a diagnostic on it.
export interface TextReference {
  /** The checkpoint as written: a path (`./out/adapter`, `diff.pt#2`) or a Hugging Face repo id. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** What named it: the call (`PeftModel.from_pretrained`) or the key (`base_model`). */
  readonly via: string;
}

/** Files larger than this are not scanned: configs and scripts are small, and a scan must stay cheap. */
export const MAX_SCANNED_CHARS = 2_000_000;
/** A string longer than this is no path or repo id. */
export const MAX_REFERENCE_CHARS = 1024;

export function plausibleReference(text: string): boolean {
  return text.trim() !== '' && text.length <= MAX_REFERENCE_CHARS && !/[\n\r\0]/.test(text);
}
