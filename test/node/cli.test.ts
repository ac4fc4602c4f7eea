import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../src/node/cli.js';
import { createEmbedder } from '../../src/node/create-embedder.js';

function capture(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    tty: false,
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
  };
  return io;
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
    expect((await readdir(join(root, 'bundle'))).sort()).toEqual([
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

  it('refuses to overwrite a folder it did not write, and a bad dtype', async () => {
    await mkdir(join(root, 'precious'));
    await writeFile(join(root, 'precious/notes.txt'), 'keep me');
    const io = capture();
    expect(await main(['convert', join(root, 'ckpt'), '--out', join(root, 'precious')], io)).toBe(1);
    expect(io.stderr).toMatch(/OUTPUT_EXISTS/);
    expect(await readFile(join(root, 'precious/notes.txt'), 'utf8')).toBe('keep me');
    const io2 = capture();
    expect(await main(['convert', join(root, 'ckpt'), '--out', join(root, 'x'), '--dtype', 'int4'], io2)).toBe(1);
    expect(io2.stderr).toMatch(/UNSUPPORTED_DTYPE/);
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
    const bytes = await readFile(join(root, 'v.f32'));
    expect(bytes.byteLength).toBe(4 * 8 * 4);
    const rows = new Float32Array(bytes.buffer, bytes.byteOffset, 32);
    const embedder = await createEmbedder({ model: join(root, 'bundle'), threads: 1 });
    try {
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
});
