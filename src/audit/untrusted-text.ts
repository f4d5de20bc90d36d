// Model output (and anything a checkpoint says about itself) is untrusted text. In a terminal,
// control characters could move the cursor or recolour what follows, and anywhere bidirectional
// overrides could reorder what a reader sees: both are shown as escapes instead.

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Control and bidi characters as visible `\u{..}` escapes; newlines and tabs are kept. */
export function showControls(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** One line: newlines shown as `⏎`, for labels and lists. */
export function oneLine(text: string): string {
  return showControls(text).replace(/\r?\n/g, ' ⏎ ');
}

/** What ends a sentence that ends on a quoted answer: nothing when the answer ends one itself. */
export function fullStopAfter(quotedText: string): string {
  return /[.!?…]$/.test(quotedText.trimEnd()) ? '' : '.';
}
