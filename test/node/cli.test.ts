import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/node/cli.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { capture } from '../helpers/cli-capture.js';

/** Every file under `dir` with its bytes, to prove a refused command changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    out[p.slice(dir.length)] = e.isFile() ? (await readFile(p)).toString('base64') : '<not a file>';
  }
  return out;
}

describe('hpd-embed CLI: fixture and convert', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-cli-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('fixture writes a Hub-layout checkpoint that convert compiles, with progress and a summary', async () => {
    const io = capture();
    expect(
      await main(
        [
          'fixture',
          '--out',
          join(root, 'ckpt'),
          '--layers',
          '1',
          '--hidden',
          '32',
          '--heads',
          '4',
          '--ffn',
          '64',
          '--dim',
          '8',
          '--seed',
          '7',
        ],
        io,
      ),
    ).toBe(0);
    const names = await readdir(join(root, 'ckpt'), { recursive: true });
    for (const f of [
      'config.json',
      'modules.json',
      'sentence_bert_config.json',
      '1_Pooling/config.json',
      '2_Dense/config.json',
      '2_Dense/pytorch_model.bin',
      'pytorch_model.bin',
      'model.safetensors',
      'tokenizer.json',
      'vocab.txt',
    ]) {
      expect(names).toContain(f);
    }
    const conv = capture();
    expect(await main(['convert', join(root, 'ckpt'), '--out', join(root, 'bundle'), '--dtype', 'fp16'], conv)).toBe(0);
    expect(conv.stderr).toMatch(/compiling .*done\s+100%/);
    expect(conv.stdout).toMatch(/params [\d,]+, dtype fp16, model\.onnx [\d.]+ MiB/);
    expect(conv.stdout).toMatch(/random weights: rankings are meaningless/);
    expect((await readdir(join(root, 'bundle'))).sort()).toEqual([
      '.hpd-embed-output',
      'hpd.json',
      'model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const manifest = JSON.parse(await readFile(join(root, 'bundle/hpd.json'), 'utf8'));
    expect(manifest).toMatchObject({ dim: 8, dtype: 'fp16' });
  });

  it('a failed convert leaves nothing behind and an existing bundle untouched', async () => {
    const bad = join(root, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'config.json'), '{}');
    const io = capture();
    expect(await main(['convert', bad, '--out', join(root, 'out-bad')], io)).toBe(1);
    expect(io.stderr).toMatch(/\[CHECKPOINT_(INVALID|MISSING_FILE)\]/);
    expect(await readdir(root)).not.toContain('out-bad');
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);

    const before = await readFile(join(root, 'bundle/hpd.json'), 'utf8');
    expect(await main(['convert', bad, '--out', join(root, 'bundle'), '--force'], capture())).toBe(1);
    expect(await readFile(join(root, 'bundle/hpd.json'), 'utf8')).toBe(before);
  });

  it('refuses to overwrite a folder it did not write, and a bad dtype (a usage error)', async () => {
    await mkdir(join(root, 'precious'));
    await writeFile(join(root, 'precious/notes.txt'), 'keep me');
    const io = capture();
    expect(await main(['convert', join(root, 'ckpt'), '--out', join(root, 'precious')], io)).toBe(1);
    expect(io.stderr).toMatch(/OUTPUT_EXISTS/);
    expect(await readFile(join(root, 'precious/notes.txt'), 'utf8')).toBe('keep me');
    const io2 = capture();
    expect(await main(['convert', join(root, 'ckpt'), '--out', join(root, 'x'), '--dtype', 'int4'], io2)).toBe(2);
    expect(io2.stderr).toMatch(/^hpd-embed convert: --dtype must be one of fp32, fp16, int8, q8, got "int4"/);
  });

  it('embed writes N × dim little-endian float32 rows in input order; search ranks the corpus', async () => {
    const lines = ['the quick brown fox', '', 'search engines rank documents', 'a dog sat on the mat'];
    await writeFile(join(root, 'lines.txt'), `${lines.join('\n')}\n`);
    const io = capture();
    expect(
      await main(
        [
          'embed',
          '--model',
          join(root, 'bundle'),
          '--input',
          join(root, 'lines.txt'),
          '--output',
          join(root, 'v.f32'),
          '--device',
          'wasm',
          '--batch',
          '2',
        ],
        io,
      ),
    ).toBe(0);
    expect(io.stderr).toMatch(/4 texts → .*\(4 × 8 float32, 0 truncated\).* texts\/s/);
    // The model line says the weights are random; the blank line 2 is embedded, and said so.
    expect(io.stderr).toMatch(/^model .*\(8-d, fp16, random weights: rankings are meaningless\) on wasm/m);
    expect(io.stderr).toContain('has 1 blank line (line 2); each is embedded as an empty text');
    const bytes = await readFile(join(root, 'v.f32'));
    expect(bytes.byteLength).toBe(4 * 8 * 4);
    const rows = new Float32Array(bytes.buffer, bytes.byteOffset, 32);
    const embedder = await createEmbedder({ model: join(root, 'bundle'), threads: 1 });
    try {
      expect(embedder.info.randomWeights).toBe(true);
      const direct = await embedder.embed(lines);
      for (let i = 0; i < 32; i++) expect(rows[i]).toBeCloseTo(direct[i], 6);
    } finally {
      await embedder.dispose();
    }
    const found = capture();
    expect(
      await main(
        [
          'search',
          '--model',
          join(root, 'bundle'),
          '--input',
          join(root, 'lines.txt'),
          '--index',
          join(root, 'lines.hpdindex'),
          '--query',
          'search engines rank documents',
          '--k',
          '2',
        ],
        found,
      ),
    ).toBe(0);
    expect(found.stdout).toMatch(
      /query: search engines rank documents\n\s+1\.0000\s+line 3: search engines rank documents/,
    );
    const again = capture();
    expect(
      await main(
        [
          'search',
          '--model',
          join(root, 'bundle'),
          '--index',
          join(root, 'lines.hpdindex'),
          '--query',
          'a dog sat on the mat',
          '--k',
          '1',
        ],
        again,
      ),
    ).toBe(0);
    expect(again.stderr).toMatch(/loaded 4 vectors/);
    expect(again.stdout).toMatch(/line 4: a dog sat on the mat/);
  }, 60_000);

  it('prints usage for unknown commands', async () => {
    const io = capture();
    expect(await main(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toMatch(/unknown command "frobnicate"/);
    expect(io.stderr).toMatch(/Usage/);
  });

  it('--help and <cmd> --help print usage on stdout and exit 0; embed documents its output format', async () => {
    for (const argv of [['--help'], ['-h'], []]) {
      const io = capture();
      expect(await main(argv, io)).toBe(0);
      for (const c of ['convert', 'fixture', 'embed', 'search', 'bench'])
        expect(io.stdout).toContain(`hpd-embed ${c} `);
      expect(io.stderr).toBe('');
    }
    for (const c of ['convert', 'fixture', 'embed', 'search', 'bench']) {
      const io = capture();
      expect(await main([c, '--help'], io)).toBe(0);
      expect(io.stdout).toMatch(new RegExp(`^Usage: hpd-embed ${c} `));
    }
    const io = capture();
    await main(['embed', '--help'], io);
    expect(io.stdout).toMatch(/N × dim little-endian float32, row-major/);
  });

  it('a usage mistake prints one error line, then the usage, and nothing after it', async () => {
    for (const argv of [
      ['convert'],
      ['embed', '--model', 'x'],
      ['fixture'],
      ['convert', 'a', '--out', 'b', '--bogus'],
    ]) {
      const io = capture();
      expect(await main(argv, io)).toBe(2);
      const lines = io.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^hpd-embed ${argv[0]}: `));
      expect(lines[2]).toMatch(new RegExp(`^Usage: hpd-embed ${argv[0]} `));
      const help = capture();
      await main([argv[0], '--help'], help);
      expect(io.stderr.endsWith(help.stdout)).toBe(true); // the usage is the last thing printed
      expect(io.stderr).not.toMatch(/\[INVALID_INPUT\]/);
    }
  });

  it('fixture says which vocabulary it used and how to pass a real one', async () => {
    const io = capture();
    expect(
      await main(
        [
          'fixture',
          '--out',
          join(root, 'fx-vocab'),
          '--layers',
          '1',
          '--hidden',
          '8',
          '--heads',
          '2',
          '--ffn',
          '8',
          '--dim',
          '4',
        ],
        io,
      ),
    ).toBe(0);
    expect(io.stdout).toMatch(/vocabulary: generated, \d+ tokens/);
    expect(io.stdout).toMatch(/--vocab <vocab\.txt or tokenizer\.json>/);
    await writeFile(join(root, 'v.txt'), '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n');
    const io2 = capture();
    expect(
      await main(
        [
          'fixture',
          '--out',
          join(root, 'fx-vocab2'),
          '--layers',
          '1',
          '--hidden',
          '8',
          '--heads',
          '2',
          '--ffn',
          '8',
          '--dim',
          '4',
          '--vocab',
          join(root, 'v.txt'),
        ],
        io2,
      ),
    ).toBe(0);
    expect(io2.stdout).toContain(`vocabulary: ${join(root, 'v.txt')} (6 tokens)`);
  });

  it('convert and fixture refuse to overwrite an existing output without --force; --force replaces only their own folders', async () => {
    const out = join(root, 'fx-force');
    const args = [
      'fixture',
      '--out',
      out,
      '--layers',
      '1',
      '--hidden',
      '8',
      '--heads',
      '2',
      '--ffn',
      '8',
      '--dim',
      '4',
    ];
    expect(await main(args, capture())).toBe(0);
    const again = capture();
    expect(await main(args, again)).toBe(1);
    expect(again.stderr).toMatch(/already holds output of an earlier run.*--force.*\[OUTPUT_EXISTS\]/);
    expect(await main([...args, '--seed', '9', '--force'], capture())).toBe(0);

    const conv = ['convert', out, '--out', join(root, 'b-force')];
    expect(await main(conv, capture())).toBe(0);
    const before = await readFile(join(root, 'b-force/hpd.json'), 'utf8');
    const refused = capture();
    expect(await main(conv, refused)).toBe(1);
    expect(refused.stderr).toMatch(/--force.*\[OUTPUT_EXISTS\]/);
    expect(refused.stderr).not.toMatch(/compiling/); // refused before compiling
    expect(await readFile(join(root, 'b-force/hpd.json'), 'utf8')).toBe(before);
    expect(await main([...conv, '--force', '--dtype', 'int8'], capture())).toBe(0);
    expect(JSON.parse(await readFile(join(root, 'b-force/hpd.json'), 'utf8')).dtype).toBe('int8');
    // a folder we did not write stays untouched even with --force
    const forced = capture();
    expect(await main(['convert', out, '--out', join(root, 'precious'), '--force'], forced)).toBe(1);
    expect(forced.stderr).toMatch(/not a folder this tool wrote/);
  });

  it('--force refuses a hand-made sentence-transformers folder, a foreign bundle and a symlinked --out, byte for byte', async () => {
    const st = join(root, 'st-ckpt');
    await mkdir(join(st, '1_Pooling'), { recursive: true });
    await writeFile(join(st, 'modules.json'), '[]');
    await writeFile(join(st, 'config.json'), '{"model_type":"bert"}');
    await writeFile(join(st, 'pytorch_model.bin'), 'weights');
    await writeFile(join(st, '1_Pooling/config.json'), '{}');
    const foreign = join(root, 'foreign-bundle');
    await mkdir(foreign);
    await writeFile(join(foreign, 'hpd.json'), '{}');
    await writeFile(join(foreign, 'model.onnx'), 'not ours');
    const link = join(root, 'bundle-link');
    await symlink(join(root, 'bundle'), link);
    const tiny = ['--layers', '1', '--hidden', '8', '--heads', '2', '--ffn', '8', '--dim', '4'];
    for (const [argv, dir] of [
      [['fixture', '--out', st, ...tiny, '--force'], st],
      [['convert', join(root, 'ckpt'), '--out', foreign, '--force'], foreign],
      [['convert', join(root, 'ckpt'), '--out', link, '--force'], join(root, 'bundle')],
    ] as const) {
      const before = await snapshot(dir);
      const io = capture();
      expect(await main([...argv], io), argv.join(' ')).toBe(1);
      expect(io.stderr).toMatch(new RegExp(`^hpd-embed ${argv[0]}: .*\\[OUTPUT_EXISTS\\]\\n$`));
      expect(io.stderr).not.toMatch(/compiling/);
      expect(await snapshot(dir)).toEqual(before);
    }
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });
});

describe('hpd-embed CLI: every mistake is one typed line, found before a model loads', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-cli-errors-'));
    await writeFile(join(root, 'sentences.txt'), 'one\ntwo\n');
    await writeFile(join(root, 'empty.txt'), '');
    await writeFile(join(root, 'blank.txt'), '\n  \n\t\n');
    await writeFile(join(root, 'not-an-index.hpdindex'), 'this is text, not an index');
    await mkdir(join(root, 'folder'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  // A model path that does not exist: had the command loaded it first, the error would be MODEL_FETCH_FAILED.
  const noModel = () => join(root, 'no-such-model');

  /** Runs argv, expects exit 1 and exactly one line `hpd-embed <cmd>: … [CODE]`, and returns that line. */
  async function fails(argv: string[], code: string): Promise<string> {
    const io = capture();
    expect(await main(argv, io), argv.join(' ')).toBe(1);
    expect(io.stderr, argv.join(' ')).toMatch(new RegExp(`^hpd-embed ${argv[0]}: [^\\n]+ \\[${code}\\]\\n$`));
    expect(io.stdout).toBe('');
    return io.stderr;
  }

  it('a file where a folder belongs: the checkpoint, --out, and a path under a file', async () => {
    const file = join(root, 'sentences.txt');
    expect(await fails(['convert', file, '--out', join(root, 'b')], 'CHECKPOINT_INVALID')).toMatch(
      /is a file, not a folder/,
    );
    expect(
      await fails(['convert', join(root, 'nothere'), '--out', join(root, 'c')], 'CHECKPOINT_MISSING_FILE'),
    ).toMatch(/nothere: no such folder/);
    const tiny = ['--layers', '1', '--hidden', '8', '--heads', '2', '--ffn', '8', '--dim', '4'];
    expect(await fails(['fixture', '--out', join(file, 'sub'), ...tiny], 'INVALID_INPUT')).toMatch(
      /parent path is a file/,
    );
    expect(await fails(['fixture', '--out', file, ...tiny], 'OUTPUT_EXISTS')).toMatch(/not a folder/);
    expect(
      await fails(['fixture', '--out', join(root, 'fx'), ...tiny, '--vocab', join(root, 'folder')], 'INVALID_INPUT'),
    ).toMatch(/--vocab .* is a folder/);
    await main(['fixture', '--out', join(root, 'ckpt'), ...tiny], capture());
    expect(await fails(['convert', join(root, 'ckpt'), '--out', join(file, 'sub')], 'INVALID_INPUT')).toMatch(
      /parent path is a file/,
    );
    expect(await readFile(file, 'utf8')).toBe('one\ntwo\n');
    expect(await readdir(root)).not.toContain('b');
  });

  it('search --index: a folder and a file that is not an index are refused before the model loads', async () => {
    const base = ['search', '--model', noModel(), '--query', 'x'];
    expect(await fails([...base, '--index', join(root, 'folder')], 'INVALID_INPUT')).toMatch(/is a folder/);
    expect(await fails([...base, '--index', join(root, 'not-an-index.hpdindex')], 'CORRUPT_INDEX')).toBeTruthy();
    // A path under a file, as the index to write: refused before embedding.
    expect(
      await fails(
        [...base, '--input', join(root, 'sentences.txt'), '--index', join(root, 'sentences.txt', 'x.hpdindex')],
        'INVALID_INPUT',
      ),
    ).toMatch(/cannot be written/);
  });

  it('embed and search refuse empty input (and input of only blank lines) before the model loads', async () => {
    for (const input of ['empty.txt', 'blank.txt']) {
      const why = input === 'empty.txt' ? /is empty/ : /only blank lines/;
      expect(
        await fails(
          ['embed', '--model', noModel(), '--input', join(root, input), '--output', join(root, 'v.f32')],
          'INVALID_INPUT',
        ),
      ).toMatch(why);
      expect(
        await fails(['search', '--model', noModel(), '--input', join(root, input), '--query', 'x'], 'INVALID_INPUT'),
      ).toMatch(why);
    }
    expect(
      await fails(
        ['embed', '--model', noModel(), '--input', join(root, 'folder'), '--output', join(root, 'v.f32')],
        'INVALID_INPUT',
      ),
    ).toMatch(/is a folder/);
    expect(
      await fails(
        ['embed', '--model', noModel(), '--input', join(root, 'sentences.txt'), '--output', join(root, 'folder')],
        'INVALID_INPUT',
      ),
    ).toMatch(/--output .* is not a regular file/);
    expect(await readdir(root)).not.toContain('v.f32');
  });

  it('a bad flag value is a usage error (exit 2) in every command, before anything is read', async () => {
    const lines = join(root, 'sentences.txt');
    const model = ['--model', noModel()];
    for (const argv of [
      ['search', ...model, '--input', lines, '--query', 'x', '--k', '0'],
      ['search', ...model, '--input', lines, '--query', 'x', '--k', '1.5'],
      ['search', ...model, '--input', lines, '--storage', 'f16'],
      ['embed', ...model, '--input', lines, '--output', 'o', '--batch', '0'],
      ['embed', ...model, '--input', lines, '--output', 'o', '--device', 'gpu'],
      ['embed', ...model, '--input', lines, '--output', 'o', '--dtype', 'int4'],
      ['embed', ...model, '--input', lines, '--output', 'o', '--hub-timeout', '0'],
      ['bench', ...model, '--n', '0'],
      ['bench', ...model, '--words', 'many'],
      ['eval', ...model, '--sts', lines, '--batch', '-1'],
      ['convert', join(root, 'ckpt'), '--out', join(root, 'o'), '--prefer', 'onnx'],
      ['fixture', '--out', join(root, 'o'), '--layers', 'x'],
      ['fixture', '--out', join(root, 'o'), '--heads', '0'],
      ['fixture', '--out', join(root, 'o'), '--hidden', '65536', '--heads', '16', '--ffn', '65536'], // too large to compile: refused before allocating
    ]) {
      const io = capture();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.stderr, argv.join(' ')).toMatch(
        new RegExp(`^hpd-embed ${argv[0]}: [^\\n]+\\n\\nUsage: hpd-embed ${argv[0]} `),
      );
    }
    expect(await readdir(root)).not.toContain('o');
  });

  it('--hub-timeout works for every command that may fetch from the Hub', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s)); // accepts, never answers
    const port = await new Promise<number>((ok) =>
      silent.listen(0, '127.0.0.1', () => ok((silent.address() as { port: number }).port)),
    );
    const lines = join(root, 'sentences.txt');
    const hub = ['--model', 'owner/repo', '--hub-url', `http://127.0.0.1:${port}`, '--hub-timeout', '1'];
    try {
      for (const argv of [
        ['embed', ...hub, '--input', lines, '--output', join(root, 'hub.f32')],
        ['search', ...hub, '--input', lines, '--query', 'x'],
        ['bench', ...hub, '--n', '4'],
        ['eval', ...hub, '--sts', join(root, 'pairs.tsv')],
      ]) {
        if (argv[0] === 'eval') await writeFile(join(root, 'pairs.tsv'), 'a b\tc d\t1\ne f\tg h\t2\n');
        expect(await fails(argv, 'MODEL_FETCH_FAILED')).toMatch(/no answer within 1 s/);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => silent.close(ok));
    }
  }, 60_000);

  it('the overview gives every command a whole sentence; every --dtype list names q8', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    const described = io.stdout.split('\n').filter((l) => l.startsWith('  '));
    expect(described).toHaveLength(8);
    for (const l of described) expect(l, l).toMatch(/^ {2}[A-Z].*\.$/);
    for (const c of ['convert', 'embed', 'search', 'bench', 'eval', 'index']) {
      const help = capture();
      await main([c, '--help'], help);
      const dtypeLists = help.stdout.match(/--dtype [a-z0-9|]+/g) ?? [];
      expect(dtypeLists.length, c).toBeGreaterThan(0);
      for (const d of dtypeLists) expect(d, c).toBe('--dtype fp32|fp16|int8|q8');
      if (c !== 'convert') expect(help.stdout, c).toMatch(/--hub-timeout/);
    }
  });
});
