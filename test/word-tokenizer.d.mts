export function writeWordTokenizer(dir: string, vocabSize: number, words?: Record<number, string>): void;
