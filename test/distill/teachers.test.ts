// RoBERTa- and MPNet-style teachers (distill/teachers/, distill/tokenizers/): tiny random checkpoints in the Hugging
// Face layout with vocabularies generated here. Token ids must equal @huggingface/tokenizers', and pooled vectors a
// float64 reference forward pass (test/reference/encoder_f64.py, from Hugging Face's modeling code) within 1e-5.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedVocab } from '../../src/convert/fixture.js';
import { wordpieceTokenizerJson } from '../../src/convert/wordpiece-tokenizer.js';
import { main, type CliIO } from '../../src/node/cli.js';
import { readTeacherProjection } from '../../src/node/eval-files.js';
import { projectTeacher } from '../../src/search/project-teacher.js';
import { maxAbsDiff } from '../helpers/ort-run.js';
import { fixtureDir, TINY, sentences } from '../helpers/fixtures.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { runDistill, runPython, torchMissing, ONE_SHORT_EPOCH } from './python.js';

if (torchMissing) console.warn(`skipping RoBERTa/MPNet teacher tests: ${torchMissing}`);

const REFERENCE = resolve(import.meta.dirname, '../reference/encoder_f64.py');
const SIZE = { layers: 2, hidden: 32, heads: 4, ffn: 64, positions: 66 };
const quiet: CliIO = { out: () => {}, err: () => {}, tty: false };

/** GPT-2's byte -> printable character map (the byte-level alphabet). */
function byteChars(): string[] {
  const bs: number[] = [];
  for (const [a, b] of [
    [33, 126],
    [161, 172],
    [174, 255],
  ])
    for (let c = a; c <= b; c++) bs.push(c);
  const map = new Map(bs.map((b) => [b, b]));
  let n = 0;
  for (let b = 0; b < 256; b++) if (!map.has(b)) map.set(b, 256 + n++);
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(map.get(b)!));
}

/** A RoBERTa-style byte-level BPE: specials, the 256 byte characters, then merges spelling each fixture word
 * (with and without its leading-space Ġ) left to right. */
/** A tokenizer.json added_tokens entry for a special token. */
function specialToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function robertaBpe(): { vocab: Record<string, number>; merges: string[]; json: object } {
  const vocab: Record<string, number> = {};
  const add = (t: string) => (vocab[t] ??= Object.keys(vocab).length);
  for (const t of ['<s>', '<pad>', '</s>', '<unk>', ...byteChars()]) add(t);
  const merges: string[] = [];
  const words = generatedVocab().filter((w) => /^[a-z]{2,}$/.test(w));
  for (const w of words.flatMap((w) => [`Ġ${w}`, w, `Ġ${w[0].toUpperCase()}${w.slice(1)}`]))
    for (let i = 1; i < w.length; i++)
      if (!(w.slice(0, i + 1) in vocab)) {
        merges.push(`${w.slice(0, i)} ${w[i]}`);
        add(w.slice(0, i + 1));
      }
  add('<mask>');
  const special = (content: string) => specialToken(vocab[content], content);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map(special),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
  return { vocab, merges, json };
}

/** MPNet's layout: <s> <pad> </s> <unk> first, WordPiece with BertNormalizer, <s> … </s> around a sentence. */
function mpnetWordPiece(): { json: { model: { vocab: Record<string, number> } } } {
  const vocab = ['<s>', '<pad>', '</s>', '<unk>', ...generatedVocab(), '<mask>'];
  const json = JSON.parse(wordpieceTokenizerJson(vocab, true));
  json.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] };
  json.added_tokens.push(
    ...['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map((content) => specialToken(vocab.indexOf(content), content)),
  );
  return { json };
}

const EDGE = [
  "Don't stop: it's 3.14 o'clock, we've SEEN 12345 cats!",
  'Tabs\there  and   spaces  ',
  '  leading spaces',
  'Café déjà vu — naïve 🙂 中文',
  'a</s>b <s> c',
  'UPPER lower MiXeD',
  "'s 'll 're 've 'm 'd 't",
  'x',
];

describe.skipIf(Boolean(torchMissing))('RoBERTa and MPNet teachers', () => {
  const tmp = useTempDir('hpd-distill-teachers-');
  const texts = [...sentences(120).texts.slice(0, 120), ...EDGE];
  let student: Awaited<ReturnType<typeof fixtureDir>> | undefined;
  const dirs = { roberta: '', mpnet: '' };
  const tokJson: Record<string, object> = {};

  beforeAll(async () => {
    student = await fixtureDir({ ...TINY, layers: 1, dim: 0 });
    await writeFile(join(tmp(), 'texts.txt'), texts.join('\n') + '\n');
    const bpe = robertaBpe();
    const wp = mpnetWordPiece();
    tokJson.roberta = bpe.json;
    tokJson.mpnet = wp.json;
    for (const kind of ['roberta', 'mpnet'] as const) {
      dirs[kind] = join(tmp(), kind);
      const vocabSize = Object.keys((tokJson[kind] as { model: { vocab: object } }).model.vocab).length;
      await runPython(`import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")`, [
        REFERENCE,
        'make',
        dirs[kind],
        kind,
        kind === 'roberta' ? '11' : '12',
        ...[SIZE.layers, SIZE.hidden, SIZE.heads, SIZE.ffn, vocabSize, SIZE.positions].map(String),
      ]);
      await writeFile(join(dirs[kind], 'tokenizer.json'), JSON.stringify(tokJson[kind]));
    }
    // The MPNet teacher as sentence-transformers writes it: Transformer + Pooling (mean).
    await writeFile(
      join(dirs.mpnet, 'modules.json'),
      JSON.stringify([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      ]),
    );
    await mkdir(join(dirs.mpnet, '1_Pooling'));
    await writeFile(
      join(dirs.mpnet, '1_Pooling', 'config.json'),
      JSON.stringify({ word_embedding_dimension: SIZE.hidden, pooling_mode_mean_tokens: true }),
    );
    // The RoBERTa tokenizer a second way: vocab.json + merges.txt only.
    await mkdir(join(tmp(), 'roberta-files'));
    await writeFile(join(tmp(), 'roberta-files', 'vocab.json'), JSON.stringify(bpe.vocab));
    await writeFile(join(tmp(), 'roberta-files', 'merges.txt'), `#version: 0.2\n${bpe.merges.join('\n')}\n`);
  }, 300_000);
  afterAll(async () => {
    await student?.cleanup();
  });

  const jsIds = (kind: 'roberta' | 'mpnet') => {
    const tok = new Tokenizer(tokJson[kind], {});
    return texts.map((t) => Array.from(tok.encode(t).ids, Number));
  };

  for (const [kind, where] of [
    ['roberta', 'tokenizer.json'],
    ['roberta', 'vocab.json + merges.txt'],
    ['mpnet', 'tokenizer.json'],
  ] as const)
    it(`${kind} tokenizer from ${where}: ids equal @huggingface/tokenizers' on every sentence`, async () => {
      const folder = where === 'tokenizer.json' ? dirs[kind] : join(tmp(), 'roberta-files');
      const { stdout } = await runDistill(['tokenize', '--tokenizer', folder, '--sentences', join(tmp(), 'texts.txt')]);
      const py = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as number[]);
      const js = jsIds(kind);
      const diffs = texts.flatMap((t, i) =>
        JSON.stringify(py[i]) === JSON.stringify(js[i])
          ? []
          : [`${JSON.stringify(t)}: js ${JSON.stringify(js[i])} py ${JSON.stringify(py[i])}`],
      );
      expect(diffs.slice(0, 3)).toEqual([]);
      expect(js.flat().filter((id) => id > 259).length).toBeGreaterThan(texts.length); // merges were used
    }, 180_000);

  for (const [kind, pooling] of [
    ['roberta', 'mean'],
    ['roberta', 'cls'],
    ['roberta', 'cls_before_pooler'],
    ['mpnet', 'folder'],
    ['mpnet', 'cls'],
  ] as const)
    it(`${kind} forward pass, ${pooling === 'folder' ? "the folder's (mean)" : pooling} pooling: within 1e-5 of the float64 reference`, async () => {
      const ids = jsIds(kind);
      const idsPath = join(tmp(), `${kind}-${pooling}-ids.json`),
        refPath = join(tmp(), `${kind}-${pooling}-ref.json`),
        out = join(tmp(), `${kind}-${pooling}.f32`);
      await writeFile(idsPath, JSON.stringify(ids));
      await runPython(`import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")`, [
        REFERENCE,
        'forward',
        dirs[kind],
        pooling === 'folder' ? 'mean' : pooling,
        idsPath,
        refPath,
      ]);
      await runDistill([
        'embed',
        '--model',
        dirs[kind],
        '--sentences',
        join(tmp(), 'texts.txt'),
        '--out',
        out,
        ...(pooling === 'folder' ? [] : ['--pooling', pooling]),
      ]);
      const ref = JSON.parse(await readFile(refPath, 'utf8')) as number[][];
      const b = await readFile(out);
      const got = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      expect(got.length).toBe(texts.length * SIZE.hidden);
      let maxDiff = 0,
        maxAbs = 0;
      ref.forEach((row, i) =>
        row.forEach((v, j) => {
          maxDiff = Math.max(maxDiff, Math.abs(v - got[i * SIZE.hidden + j]));
          maxAbs = Math.max(maxAbs, Math.abs(v));
        }),
      );
      console.info(
        `${kind} ${pooling}: max |distill - float64 reference| ${maxDiff.toExponential(2)} (max |value| ${maxAbs.toFixed(2)})`,
      );
      expect(maxAbs).toBeGreaterThan(0.1);
      expect(maxDiff).toBeLessThanOrEqual(1e-5);
    }, 180_000);

  it('model_type xlm-roberta (XLM-R-style: the RoBERTa architecture, roberta.-prefixed keys) embeds as RoBERTa does', async () => {
    const dir = join(tmp(), 'xlmr');
    await cp(dirs.roberta, dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'xlm-roberta' }));
    const embed = async (model: string, out: string) => {
      await runDistill(['embed', '--model', model, '--sentences', join(tmp(), 'texts.txt'), '--out', out]);
      return readFile(out);
    };
    const [x, r] = [await embed(dir, join(tmp(), 'xlmr.f32')), await embed(dirs.roberta, join(tmp(), 'rob.f32'))];
    expect(x.length).toBe(texts.length * SIZE.hidden * 4);
    expect(Buffer.compare(x, r)).toBe(0);
  }, 180_000);

  it('an unknown model_type is refused naming the supported ones', async () => {
    const dir = join(tmp(), 't5');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 't5', hidden_size: 8 }));
    await expect(
      runDistill(['embed', '--model', dir, '--sentences', join(tmp(), 'texts.txt'), '--out', join(tmp(), 't5.f32')]),
    ).rejects.toThrow(
      /error: .*config\.json: model_type 't5' is not supported \(supported: bert, roberta, xlm-roberta, mpnet\)/,
    );
  }, 120_000);

  for (const kind of ['roberta', 'mpnet'] as const)
    it(`a tiny run from the ${kind} teacher: distill → convert → eval → project`, async () => {
      const out = join(tmp(), `student-from-${kind}`);
      const { stderr } = await runDistill(
        [
          '--teacher',
          dirs[kind],
          ...(kind === 'roberta' ? ['--pooling', 'cls'] : []),
          '--sentences',
          join(tmp(), 'texts.txt'),
          '--student',
          student!.dir,
          '--out',
          out,
          '--dim',
          '8',
          ...ONE_SHORT_EPOCH,
        ],
        300_000,
      );
      expect(stderr).toMatch(
        new RegExp(`teacher: .*\\(${kind === 'roberta' ? 'RoBERTa, cls' : 'MPNet, mean'} pooling`),
      );
      expect(await main(['convert', out, '--out', join(tmp(), `bundle-${kind}`)], quiet)).toBe(0);
      const m = JSON.parse(await readFile(join(out, 'distill_metrics.json'), 'utf8'));
      expect(m).toMatchObject({ teacher_dim: SIZE.hidden, dim: 8, recipe: { normalize: true } });

      // eval: the compiled student on STS-like pairs.
      const bundle = join(tmp(), `bundle-${kind}`);
      const sts = join(tmp(), `sts-${kind}.tsv`);
      await writeFile(
        sts,
        texts
          .slice(0, 40)
          .map((t, i) => `${t}\t${texts[(i * 3) % 40]}\t${(i % 6) / 1.2}`)
          .join('\n') + '\n',
      );
      let stdout = '';
      const io: CliIO = { out: (x) => void (stdout += x), err: () => {}, tty: false };
      expect(await main(['eval', '--model', bundle, '--sts', sts, '--device', 'wasm', '--json'], io)).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ task: 'sts', pairs: 40 });

      // project: the teacher's own vectors into the student's space, as projectTeacher does.
      const teacherF32 = join(tmp(), `teacher-${kind}.f32`),
        projected = join(tmp(), `projected-${kind}.f32`);
      await runDistill([
        'embed',
        '--model',
        dirs[kind],
        ...(kind === 'roberta' ? ['--pooling', 'cls'] : []),
        '--sentences',
        join(tmp(), 'texts.txt'),
        '--out',
        teacherF32,
      ]);
      await runDistill(['project', '--bundle', bundle, '--vectors', teacherF32, '--out', projected]);
      const f32 = async (p: string) => {
        const b = await readFile(p);
        return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
      };
      const expected = projectTeacher(await f32(teacherF32), await readTeacherProjection(bundle));
      expect(maxAbsDiff(await f32(projected), expected)).toBeLessThanOrEqual(1e-6);
    }, 300_000);
});
