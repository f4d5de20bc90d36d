// The malicious shapes of two pickle scanners' public test files (picklescan's tests/data and the
// bypasses reported against it and modelscan), written here opcode by opcode: `dit-audit inspect
// --json` must call every one unsafe, naming a global, with nothing run; the benign ones pass.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers';
import { pickle } from './hostile/pickle-writer';
import { zipBytes } from './hostile/zip-writer';

const root = tempDir('dit-hostile-pickles-');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MARKER = join(root, 'PWNED');
const CMD = `touch ${MARKER}`;

/** `builtins.eval(...)` / `os.system(CMD)` at every protocol, the way pickle.dumps writes them. */
const v0 = (module: string, name: string) =>
  pickle().global(module, name).mark().string(CMD).tuple().reduce().stop().bytes();
const v3 = (module: string, name: string) =>
  pickle().proto(3).global(module, name).binunicode(CMD).tuple1().reduce().stop().bytes();
const v4 = (module: string, name: string) =>
  pickle()
    .proto(4)
    .frame(0)
    .shortBinunicode(module)
    .memoize()
    .shortBinunicode(name)
    .memoize()
    .stackGlobal()
    .memoize()
    .shortBinunicode(CMD)
    .memoize()
    .tuple1()
    .memoize()
    .reduce()
    .memoize()
    .stop()
    .bytes();
const benign = pickle().proto(4).emptyList().shortBinunicode('a').append().stop().bytes();
/** torch's legacy magic number pickle, the first of a legacy torch.save file. */
const MAGIC = Buffer.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
]);
const small = (n: number) => pickle().proto(2).binint1(n).stop().bytes();
const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

const MALICIOUS: [string, string, Uint8Array, RegExp][] = [
  ['malicious1_v0.pkl', 'protocol 0 GLOBAL __builtin__.eval', v0('__builtin__', 'eval'), /__builtin__\.eval/],
  ['malicious1_v3.pkl', 'protocol 3 GLOBAL builtins.eval', v3('builtins', 'eval'), /builtins\.eval/],
  ['malicious1_v4.pkl', 'protocol 4 STACK_GLOBAL with MEMOIZE', v4('builtins', 'eval'), /builtins\.eval/],
  ['malicious2_v0.pkl', 'posix.system, protocol 0', v0('posix', 'system'), /posix\.system/],
  ['malicious2_v4.pkl', 'posix.system, protocol 4', v4('posix', 'system'), /posix\.system/],
  [
    'malicious0.pkl',
    'the "sour pickles" chain: globals, compile, eval, getattr, apply through the memo',
    pickle()
      .global('__builtin__', 'globals')
      .mark()
      .tuple()
      .reduce()
      .put(100)
      .pop()
      .global('__builtin__', 'compile')
      .mark()
      .string('x=1')
      .string('')
      .string('exec')
      .tuple()
      .reduce()
      .put(101)
      .pop()
      .global('__builtin__', 'eval')
      .mark()
      .get(101)
      .get(100)
      .tuple()
      .reduce()
      .stop()
      .bytes(),
    /__builtin__\.globals/,
  ],
  [
    'malicious10.pkl',
    'the INST opcode',
    pickle().mark().string('raise RuntimeError()').inst('__builtin__', 'exec').stop().bytes(),
    /__builtin__\.exec/,
  ],
  [
    'malicious11.pkl',
    'STACK_GLOBAL on names from protocol-0 UNICODE through PUT/GET',
    pickle()
      .unicode('os')
      .put(2)
      .pop()
      .unicode('system')
      .put(3)
      .pop()
      .get(2)
      .get(3)
      .stackGlobal()
      .mark()
      .unicode(CMD)
      .tuple()
      .reduce()
      .stop()
      .bytes(),
    /STACK_GLOBAL with a computed name/,
  ],
  [
    'malicious-invalid-bytes.pkl',
    'the same followed by junk after STOP',
    cat(pickle().unicode('os').unicode('system').stackGlobal().stop().bytes(), Buffer.from('\n\n\t\t')),
    /STACK_GLOBAL with a computed name/,
  ],
  [
    'malicious23.pkl',
    'STACK_GLOBAL on protocol-0 STRINGs',
    pickle().string('os').string('system').stackGlobal().string('ls').tuple1().reduce().stop().bytes(),
    /STACK_GLOBAL with a computed name/,
  ],
  [
    'keyerror-exploit.pkl',
    'os.system run, then a BINGET of a memo entry never stored',
    pickle()
      .proto(4)
      .global('os', 'system')
      .unicode(CMD)
      .tuple1()
      .reduce()
      .pop()
      .shortBinunicode('os')
      .memoize()
      .binget(3)
      .binget(0)
      .stackGlobal()
      .stop()
      .bytes(),
    /os\.system/,
  ],
  [
    'type-confusion-exploit.pkl',
    'os.system run, then STACK_GLOBAL on an int',
    pickle()
      .proto(4)
      .global('os', 'system')
      .unicode(CMD)
      .tuple1()
      .reduce()
      .pop()
      .binint(42)
      .memoize()
      .shortBinunicode('os')
      .memoize()
      .binget(0)
      .binget(1)
      .stackGlobal()
      .stop()
      .bytes(),
    /os\.system/,
  ],
  [
    'broken_model.pkl',
    'builtins.exec then a string that runs past the end',
    pickle().global('builtins', 'exec').mark().raw('X>\n').raw(CMD).bytes(),
    /builtins\.exec/,
  ],
  [
    'malicious6.pkl',
    'a benign pickle, then a malicious one after STOP',
    cat(benign, v4('requests.api', 'get')),
    /requests\.api\.get/,
  ],
  [
    'malicious12.pkl',
    'operator.attrgetter and builtins.__import__ chained',
    pickle()
      .proto(4)
      .shortBinunicode('operator')
      .shortBinunicode('attrgetter')
      .stackGlobal()
      .shortBinunicode('system')
      .tuple1()
      .reduce()
      .shortBinunicode('builtins')
      .shortBinunicode('__import__')
      .stackGlobal()
      .shortBinunicode('os')
      .tuple1()
      .reduce()
      .tuple1()
      .reduce()
      .shortBinunicode(CMD)
      .tuple1()
      .reduce()
      .stop()
      .bytes(),
    /operator\.attrgetter/,
  ],
  ['malicious13b.pkl', '_pickle.loads', v4('_pickle', 'loads'), /_pickle\.loads/],
  ['malicious14.pkl', 'runpy._run_code', v4('runpy', '_run_code'), /runpy\._run_code/],
  ['malicious19.pkl', 'functools.partial over torch.load', v4('functools', 'partial'), /functools\.partial/],
  [
    'GHSA-f745-w6jp-hpxx.pkl',
    'a torch module that runs a command',
    v4('torch.utils.collect_env', 'run'),
    /torch\.utils\.collect_env\.run/,
  ],
  ['GHSA-4675-36f9-wf6r.pkl', 'ctypes.CDLL', v4('ctypes', 'CDLL'), /ctypes\.CDLL/],
  ['io_FileIO.pkl', 'io.FileIO', v4('io', 'FileIO'), /io\.FileIO/],
  [
    'sys_module_override.pkl',
    'a global named like an allowed one from another module',
    v4('torch._utils', '_rebuild_tensor_v2.__globals__'),
    /torch\._utils\._rebuild_tensor_v2\.__globals__/,
  ],
  [
    'pytorch_magic_bypass.pt',
    'torch magic number, then eval in the protocol slot',
    cat(MAGIC, v3('builtins', 'eval')),
    /builtins\.eval/,
  ],
  [
    'legacy-evil-object.pt',
    'torch magic number, protocol, sys_info, then posix.system as the object',
    cat(MAGIC, small(1001), small(1), v0('posix', 'system'), small(0)),
    /posix\.system/,
  ],
  // Zips: the entry torch reads, and the ones it does not.
  [
    'malicious1.zip',
    'a zip with data.pkl at its root',
    zipBytes([{ name: 'data.pkl', data: v4('builtins', 'eval') }]),
    /builtins\.eval/,
  ],
  [
    'malicious1_wrong_ext.zip',
    'a zip whose pickle is data.txt',
    zipBytes([{ name: 'data.txt', data: v4('builtins', 'eval') }]),
    /builtins\.eval/,
  ],
  [
    'malicious1_central_directory.zip',
    'a central-directory name unlike the local one',
    zipBytes([{ name: 'data.pkl', directoryName: 'datap.kl', data: v4('builtins', 'eval') }]),
    /builtins\.eval/,
  ],
  [
    'malicious1_crc.zip',
    'a wrong CRC',
    zipBytes([{ name: 'data.pkl', data: v4('builtins', 'eval'), crc: 1234 }]),
    /builtins\.eval/,
  ],
  [
    'deflated.pt',
    'a torch.save zip whose data.pkl is deflated',
    zipBytes([
      { name: 'archive/data.pkl', data: v4('posix', 'system'), deflate: true },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ]),
    /posix\.system/,
  ],
  [
    'extra-pickle.pt',
    'a benign torch data.pkl and a malicious archive/extra.pkl beside it',
    zipBytes([
      { name: 'archive/data.pkl', data: benign },
      { name: 'archive/extra.pkl', data: v0('posix', 'system') },
      { name: 'archive/version', data: Buffer.from('3\n') },
    ]),
    /posix\.system/,
  ],
];

const BENIGN: [string, Uint8Array][] = [
  ['benign0_v0.pkl', pickle().mark().string('a').string('b').list().stop().bytes()],
  ['benign0_v4.pkl', benign],
  ['benign-stream.pkl', cat(benign, benign)],
];

function write(name: string, bytes: Uint8Array): string {
  const dir = join(root, name.replace(/\W/g, '_'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('dit-audit inspect over the scanners’ malicious shapes', () => {
  it.each(MALICIOUS)('%s (%s) is unsafe', (name, _what, bytes, global) => {
    const r = runCli(['inspect', write(name, bytes), '--json'], 20_000);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^dit-audit: .* is unsafe: its pickle needs /);
    expect(lines[0]).toMatch(global);
    expect(existsSync(MARKER)).toBe(false);
  });

  it.each(BENIGN)('%s is read, with no globals', (name, bytes) => {
    const r = runCli(['inspect', write(name, bytes), '--json'], 20_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'torch', format: 'legacy', globals: [] });
  });
});
