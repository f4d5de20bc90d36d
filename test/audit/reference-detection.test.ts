// Where scripts, configs and model cards name a checkpoint: each detector on what people write,
// the offsets an editor marks, what must not count (comments, docstrings, f-strings, other keys),
// and linear time on input built to make a scanner backtrack.
import { describe, expect, it } from 'vitest';
import { detectReferences, referenceLanguageOf } from '../../src/audit/references/detect';
import type { TextReference } from '../../src/audit/references/reference';

const python = (source: string) => detectReferences(source, 'python');
const texts = (refs: readonly TextReference[]) => refs.map((r) => r.text);

/** Every reference's offsets point at exactly its text in the source. */
function expectOffsets(source: string, refs: readonly TextReference[]): void {
  for (const r of refs) expect(source.slice(r.start, r.end)).toBe(r.text);
}

describe('Python', () => {
  it('finds the path of each loader call, with the call that names it', () => {
    const source = [
      'from peft import PeftModel',
      'from safetensors.torch import load_file, safe_open',
      'import torch',
      'base = AutoModelForCausalLM.from_pretrained("Qwen/Qwen3-8B", torch_dtype="auto")',
      "model = PeftModel.from_pretrained(base, './out/adapter')",
      'state = load_file(r"weights\\diff.safetensors")',
      'diff = torch.load("diffs/weight-diff.pt#2", map_location="cpu", weights_only=True)',
      'with safe_open("model.safetensors", framework="pt") as f: pass',
      'model.load_adapter("adapters/comet")',
      'tok = AutoTokenizer.from_pretrained(pretrained_model_name_or_path="org/tok")',
      'm = PeftModel.from_pretrained(model=base, model_id="org/adapter", is_trainable=False)',
    ].join('\n');
    const refs = python(source);
    expect(refs.map((r) => [r.text, r.via])).toEqual([
      ['Qwen/Qwen3-8B', 'AutoModelForCausalLM.from_pretrained'],
      ['./out/adapter', 'PeftModel.from_pretrained'],
      ['weights\\diff.safetensors', 'load_file'],
      ['diffs/weight-diff.pt#2', 'torch.load'],
      ['model.safetensors', 'safe_open'],
      ['adapters/comet', 'model.load_adapter'],
      ['org/tok', 'AutoTokenizer.from_pretrained'],
      ['org/adapter', 'PeftModel.from_pretrained'],
    ]);
    expectOffsets(source, refs);
  });

  it('ignores comments, docstrings, f-strings, variables and calls that load nothing', () => {
    const source = [
      '# model = AutoModel.from_pretrained("commented/out")',
      '"""Usage: PeftModel.from_pretrained(base, "in/a/docstring")"""',
      "m = AutoModel.from_pretrained(f'{root}/adapter')",
      'm = AutoModel.from_pretrained(path_variable)',
      'x = json.load(open("config.json"))',
      'print("from_pretrained(\\"not/a/call\\")")',
      'm = AutoModel.from_pretrained("a" + suffix)',
    ].join('\n');
    expect(python(source)).toEqual([]);
  });

  it('reads a call split over lines, with nested calls before the path', () => {
    const source =
      'model = PeftModel.from_pretrained(\n    load_base(dtype=torch.bfloat16),\n    "runs/lora-7",\n)';
    const refs = python(source);
    expect(texts(refs)).toEqual(['runs/lora-7']);
    expectOffsets(source, refs);
  });

  it('decodes escaped quotes in a path', () => {
    expect(texts(python("torch.load('it\\'s.pt')"))).toEqual(["it's.pt"]);
  });

  it('stays linear on unclosed calls and strings', () => {
    const hostile = 'from_pretrained('.repeat(60_000) + '"x'.repeat(60_000) + "'''".repeat(10_000);
    const started = performance.now();
    python(hostile);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('YAML configs', () => {
  it('reads the checkpoint keys of axolotl and LLaMA-Factory configs, quoted or plain, with comments', () => {
    const source = [
      'base_model: Qwen/Qwen3-8B   # the base',
      'model_type: AutoModelForCausalLM',
      'adapter: lora',
      "lora_model_dir: './out/lora'",
      'datasets:',
      '  - path: data/train.jsonl',
      'adapter_name_or_path: "saves/qwen3/lora #2"',
      'output_dir: ./not-a-reference',
    ].join('\n');
    const refs = detectReferences(source, 'yaml');
    expect(refs.map((r) => [r.text, r.via])).toEqual([
      ['Qwen/Qwen3-8B', 'base_model'],
      ['lora', 'adapter'],
      ['./out/lora', 'lora_model_dir'],
      ['saves/qwen3/lora #2', 'adapter_name_or_path'],
    ]);
    expectOffsets(source, refs);
  });

  it('reads block and flow sequences under a checkpoint key', () => {
    const source =
      'base_model:\n  - org/one\n  # a comment\n  - "org/two"\nother: x\nbase_model: [org/three, \'org/four\']\n';
    const refs = detectReferences(source, 'yaml');
    expect(texts(refs)).toEqual(['org/one', 'org/two', 'org/three', 'org/four']);
    expectOffsets(source, refs);
  });

  it('stays linear on long lines and many empty keys', () => {
    const hostile = `${'base_model:\n'.repeat(50_000)}base_model: ${' '.repeat(100_000)}x #\n${'- a\n'.repeat(50_000)}`;
    const started = performance.now();
    detectReferences(hostile, 'yaml');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('JSON configs', () => {
  it("reads a PEFT adapter_config.json's base model, escapes decoded", () => {
    const source =
      '{\n  "peft_type": "LORA",\n  "base_model_name_or_path": "C:\\\\models\\\\qwen3",\n  "r": 1\n}';
    const refs = detectReferences(source, 'json');
    expect(refs.map((r) => [r.text, r.via])).toEqual([['C:\\models\\qwen3', 'base_model_name_or_path']]);
    expect(source.slice(refs[0].start, refs[0].end)).toBe('C:\\\\models\\\\qwen3');
  });

  it('ignores other keys and values that are not strings', () => {
    expect(detectReferences('{"name": "x", "base_model": null, "adapter": 3}', 'json')).toEqual([]);
  });
});

describe('model cards', () => {
  it('reads base_model in the front matter only', () => {
    const source =
      '---\nlicense: apache-2.0\nbase_model:\n- Qwen/Qwen3-8B\nlibrary_name: peft\n---\n\nbase_model: body/text\n';
    const refs = detectReferences(source, 'markdown');
    expect(texts(refs)).toEqual(['Qwen/Qwen3-8B']);
    expectOffsets(source, refs);
  });

  it('finds nothing without front matter', () => {
    expect(detectReferences('# Title\nbase_model: x\n', 'markdown')).toEqual([]);
  });
});

describe('which detector reads a file', () => {
  it('goes by the extension', () => {
    expect(
      ['train.py', 'axolotl.yml', 'c.yaml', 'adapter_config.json', 'README.md', 'x.txt'].map(
        referenceLanguageOf,
      ),
    ).toEqual(['python', 'yaml', 'yaml', 'json', 'markdown', undefined]);
  });
});
