// The Python WordPiece tokenizer (distill/tokenizer.py) must give exactly the ids @huggingface/tokenizers gives.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { generatedVocab } from '../../src/convert/fixture.js';
import { wordpieceTokenizerJson } from '../../src/convert/wordpiece-tokenizer.js';
import { SHARED_DATA, sentences } from '../helpers/fixtures.js';
import { runDistill, torchMissing } from './python.js';

if (torchMissing) console.warn(`skipping Python tokenizer test: ${torchMissing}`);

describe.skipIf(Boolean(torchMissing))('distill/tokenizer.py vs @huggingface/tokenizers', () => {
  it('gives identical ids on STS-B sentences (or a generated corpus) plus accents, CJK, controls and punctuation', async () => {
    const bert = join(SHARED_DATA, 'tokenizers/bert-base-uncased/tokenizer.json');
    const tokJson = existsSync(bert) ? readFileSync(bert, 'utf8') : wordpieceTokenizerJson(generatedVocab(), true);
    const stsTrain = join(SHARED_DATA, 'stsbenchmark/sts-train.csv');
    const texts = sentences().texts;
    if (existsSync(stsTrain))
      for (const l of readFileSync(stsTrain, 'utf8').split('\n'))
        if (l.split('\t').length >= 7) texts.push(l.split('\t')[5], l.split('\t')[6]);
    texts.push(
      'Café déjà vu — naïve résumé!',
      'Ünïcödé ÀÉÎÕÜ ñ',
      '中文字符 and 日本語',
      'tab\there\u0007bell',
      "it's a 'quote' (paren) [x] {y} #1 $2 ~3",
      'Supercalifragilisticexpialidocious' + 'x'.repeat(120),
      '  ',
      '[CLS] literal [SEP] and [MASK]',
    );
    const dir = await mkdtemp(join(tmpdir(), 'hpd-tok-'));
    try {
      await writeFile(join(dir, 'tokenizer.json'), tokJson);
      await writeFile(join(dir, 'sentences.txt'), texts.map((t) => t.replace(/[\r\n]/g, ' ')).join('\n') + '\n');
      const { stdout } = await runDistill([
        'tokenize',
        '--tokenizer',
        join(dir, 'tokenizer.json'),
        '--sentences',
        join(dir, 'sentences.txt'),
      ]);
      const py = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as number[]);
      const tok = new Tokenizer(JSON.parse(tokJson), {});
      expect(py.length).toBe(texts.length);
      let mismatches = 0;
      const first: string[] = [];
      texts.forEach((t, i) => {
        const ts = Array.from(tok.encode(t.replace(/[\r\n]/g, ' ')).ids);
        if (JSON.stringify(ts) !== JSON.stringify(py[i])) {
          mismatches++;
          if (first.length < 3)
            first.push(`${JSON.stringify(t)}: ts ${JSON.stringify(ts)} py ${JSON.stringify(py[i])}`);
        }
      });
      console.info(
        `tokenizer parity: ${texts.length - mismatches}/${texts.length} sentences identical (${existsSync(bert) ? 'bert-base-uncased' : 'generated vocabulary'})`,
      );
      expect(first).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
