// The published recipe (distill/train.py), resumable runs, the teacher-vector cache and the corpus options
// (distill/data.py), on tiny random models.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spearman } from '../../src/eval/correlation.js';
import { seededRandom } from '../../src/seeded-random.js';
import { sentences } from '../helpers/fixtures.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { useDistillInputs } from './inputs.js';
import { runDistill, runPython, torchMissing, ONE_SHORT_EPOCH } from './python.js';

if (torchMissing) console.warn(`skipping distill recipe tests: ${torchMissing}`);

const N = 64,
  D = 12;

// Builds the student as cmd_train does and trains it directly, recording what the recipe does.
const RECIPE = `
import json, sys, numpy as np, torch
from distill.config import TrainConfig
from distill.st_model import SentenceModel, TANH, load_bert, tokenizer_for
from distill.train import make_optimizer, train
student, texts_path = sys.argv[1:3]
bert = load_bert(student)
torch.manual_seed(0)
model = SentenceModel(bert, "mean", [(torch.nn.Linear(bert.config["hidden_size"], 4), TANH)], False, 16)
cfg = TrainConfig(sentences=(texts_path,), student=student, out="unused", epochs=2, batch=16, warmup=1000, val_every=1)
opt = make_optimizer(model, cfg)
names = {id(p): n for n, p in model.named_parameters()}
out = {"eps": opt.defaults["eps"], "groups": [{"wd": g["weight_decay"], "names": sorted(names[id(p)] for p in g["params"])} for g in opt.param_groups]}
out["dropout"] = sorted({m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)})
ids, mask = torch.tensor([[2, 30, 31, 32, 3]]), torch.ones(1, 5, dtype=torch.long)
model.train(); a, b = model(ids, mask), model(ids, mask)
model.eval(); c, d = model(ids, mask), model(ids, mask)
out["train_differs"], out["eval_same"] = bool((a != b).any()), bool((c == d).all())
clips, real = [], torch.nn.utils.clip_grad_norm_
torch.nn.utils.clip_grad_norm_ = lambda params, max_norm, *r, **k: (clips.append(max_norm), real(params, max_norm, *r, **k))[1]
texts = open(texts_path).read().split("\\n")[:40]
y = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
logs = []
history, best = train(model, tokenizer_for(student, 16, student=True), (texts[:32], y[:32]), (texts[32:], y[32:]), cfg, "cpu", logs.append)
out.update(clips=clips, history=history, best=best, logs=logs)
print(json.dumps(out))
`;

const CORPUS = `
import json, sys
from distill.data import expand, load_corpus
import numpy as np
s, rows, rep, lines = load_corpus(sys.argv[1:3], [1, 2.5], True, 20, lambda m: None)
counts = np.bincount(expand(np.arange(len(s)), rep, 0), minlength=len(s))
many = np.bincount(expand(np.zeros(4000, dtype=np.int64), np.array([0.5]), 1), minlength=1)
print(json.dumps({"sentences": s, "rows": rows.tolist(), "repeats": rep.tolist(), "lines": lines, "counts": counts.tolist(), "half": int(many[0])}))
`;

const SAME_WEIGHTS = `
import sys
from distill import safetensors_io
a, b = safetensors_io.load(sys.argv[1]), safetensors_io.load(sys.argv[2])
assert a.keys() == b.keys()
print(max(float((a[k] - b[k]).abs().max()) for k in a))
`;

describe.skipIf(Boolean(torchMissing))('distill: recipe, resume, cache, corpus', () => {
  const tmp = useTempDir('hpd-distill-train-');
  const { student, teacher } = useDistillInputs(tmp, { n: N, d: D, teacherSeed: 5, vectorSeed: 6 });

  it('AdamW eps 1e-6, no decay on biases and LayerNorm, dropout 0.1 in training only, clipping at 1.0, validation every step keeping the best, a warning for a warmup longer than the run', async () => {
    const r = JSON.parse(await runPython(RECIPE, [student().dir, join(tmp(), 's.txt')])) as {
      eps: number;
      groups: { wd: number; names: string[] }[];
      dropout: number[];
      train_differs: boolean;
      eval_same: boolean;
      clips: number[];
      history: { step: number; val_mse: number }[];
      best: number;
      logs: string[];
    };
    expect(r.eps).toBe(1e-6);
    const [decay, noDecay] = r.groups;
    expect(decay.wd).toBe(0.01);
    expect(noDecay.wd).toBe(0);
    expect(decay.names.every((n) => n.endsWith('.weight') && !n.includes('LayerNorm'))).toBe(true);
    expect(noDecay.names.every((n) => n.endsWith('.bias') || n.includes('LayerNorm'))).toBe(true);
    expect(noDecay.names).toContain('bert.embeddings.LayerNorm.weight');
    expect(noDecay.names).toContain('dense.0.bias');
    expect(decay.names).toContain('bert.embeddings.word_embeddings.weight');
    expect(r.dropout).toEqual([0.1]);
    expect(r.train_differs).toBe(true);
    expect(r.eval_same).toBe(true);
    expect(r.clips).toEqual([1, 1, 1, 1]); // 32 sentences, batch 16, 2 epochs
    expect(r.history.map((h) => h.step)).toEqual([0, 1, 2, 3, 4]); // untrained, every step (epoch ends included)
    expect(r.best).toBe(Math.min(...r.history.map((h) => h.val_mse)));
    expect(r.logs[0]).toMatch(/^warning: --warmup 1000 steps is longer than the whole run \(4 steps\)/);
  }, 240_000);

  it('several files: length filter, dedup (keeping the larger weight), weights as repeats; rows select --teacher-vectors lines', async () => {
    await writeFile(join(tmp(), 'a.txt'), 'one\ntwo\none\nthis line is longer than twenty\nthree\n');
    await writeFile(join(tmp(), 'b.txt'), 'four\ntwo\n');
    const r = JSON.parse(await runPython(CORPUS, [join(tmp(), 'a.txt'), join(tmp(), 'b.txt')]));
    expect(r.sentences).toEqual(['one', 'two', 'three', 'four']);
    expect(r.rows).toEqual([0, 1, 4, 5]);
    expect(r.repeats).toEqual([1, 2.5, 1, 2.5]);
    expect(r.lines).toBe(7);
    expect(r.counts[0]).toBe(1);
    expect([2, 3]).toContain(r.counts[1]);
    expect(r.counts[3] === 2 || r.counts[3] === 3).toBe(true);
    expect(Math.abs(r.half - 2000)).toBeLessThan(150); // weight 0.5: about half of 4000 kept
  }, 120_000);

  const tvArgs = (out: string, extra: string[] = []) => [
    '--teacher-vectors',
    join(tmp(), 'v.f32'),
    '--sentences',
    join(tmp(), 's.txt'),
    '--student',
    student().dir,
    '--out',
    out,
    '--dim',
    '4',
    '--epochs',
    '2',
    '--batch',
    '16',
    '--warmup',
    '2',
    '--val-fraction',
    '0.1',
    '--checkpoint-every',
    '2',
    ...extra,
  ];

  it('a run stopped after a checkpoint and resumed (tokenising in a worker) ends with the same weights as an uninterrupted run', async () => {
    const whole = join(tmp(), 'whole'),
      parts = join(tmp(), 'parts');
    const full = await runDistill(tvArgs(whole), 240_000);
    expect(full.stderr).toMatch(/epoch 1\/2 \[#+\] 4\/4 loss [\d.]+ [\d.]+ sentences\/s ETA \d+:\d\d/);
    // With --initial-out: the resumed part rewrites the untrained student the first part wrote.
    const initial = ['--initial-out', `${parts}-initial`];
    const first = await runDistill(tvArgs(parts, ['--stop-after', '5', ...initial]), 240_000); // last checkpoint: step 4
    expect(first.stderr).toMatch(/stopping after step 5/);
    await expect(runDistill(tvArgs(parts, ['--resume', '--lr', '2e-4']), 240_000)).rejects.toThrow(
      /--resume: .*checkpoint\.pt was written by a run with other inputs or settings/,
    );
    // Resumed with tokenisation in a DataLoader worker: the batches, and so the weights, are the same.
    const second = await runDistill(tvArgs(parts, ['--resume', '--workers', '1', ...initial]), 240_000);
    expect(second.stderr).toMatch(/resumed from .*checkpoint\.pt at step 4 of 8/);
    for (const f of ['model.safetensors', '2_Dense/model.safetensors']) {
      const diff = Number(await runPython(SAME_WEIGHTS, [join(whole, f), join(parts, f)]));
      expect(diff, f).toBeLessThanOrEqual(1e-6);
    }
    const m = (p: string) => readFile(join(p, 'distill_metrics.json'), 'utf8').then((t) => JSON.parse(t).best_val_mse);
    expect(await m(parts)).toBeCloseTo(await m(whole), 6);
  }, 600_000);

  it('teacher vectors are cached by teacher and corpus, and reused', async () => {
    const args = (out: string, s: string) => [
      '--teacher',
      teacher().dir,
      '--sentences',
      s,
      '--student',
      student().dir,
      '--out',
      join(tmp(), out),
      '--dim',
      '4',
      ...ONE_SHORT_EPOCH,
      '--cache-dir',
      join(tmp(), 'cache'),
    ];
    const a = await runDistill(args('c1', join(tmp(), 's.txt')), 240_000);
    expect(a.stderr).toMatch(/teacher \[#+\] \d+\/\d+ .* ETA/);
    expect(a.stderr).toMatch(/teacher: vectors cached at .*cache/);
    const b = await runDistill(args('c2', join(tmp(), 's.txt')), 240_000);
    expect(b.stderr).toMatch(/teacher: \d+ vectors reused from the cache/);
    expect(b.stderr).not.toMatch(/embedding \d+ sentences/);
    const proj = (o: string) => readFile(join(tmp(), o, 'teacher_projection.safetensors'));
    expect(Buffer.compare(await proj('c1'), await proj('c2'))).toBe(0);
    await writeFile(join(tmp(), 's2.txt'), sentences(N).texts.slice(1, N).join('\n') + '\n');
    const c = await runDistill(args('c3', join(tmp(), 's2.txt')), 240_000);
    expect(c.stderr).toMatch(/embedding \d+ sentences/);
  }, 600_000);

  it('--eval-sts: STS Spearman at every validation, in the log, the metrics and the card; equal to src/eval/correlation.ts', async () => {
    const r = seededRandom(12);
    const a = Array.from({ length: 200 }, () => Math.round(r() * 10) / 2); // ties on purpose
    const b = a.map((x) => x + Math.round(r() * 6) / 2);
    const py = Number(
      await runPython('import json, sys\nfrom distill.sts import spearman\nprint(spearman(*json.loads(sys.argv[1])))', [
        JSON.stringify([a, b]),
      ]),
    );
    expect(py).toBeCloseTo(spearman(Float64Array.from(a), Float64Array.from(b)), 12);

    const texts = sentences(N).texts.slice(0, N);
    await writeFile(
      join(tmp(), 'sts.tsv'),
      texts
        .slice(0, 40)
        .map((t, i) => `${t}\t${texts[(i * 7) % 40]}\t${(i % 11) / 2}`)
        .join('\n') + '\n',
    );
    const out = join(tmp(), 'with-sts');
    const { stderr } = await runDistill(
      [...tvArgs(out).slice(0, -2), '--epochs', '1', '--val-every', '2', '--eval-sts', join(tmp(), 'sts.tsv')],
      240_000,
    );
    expect(stderr).toMatch(/epoch 0 \(untrained\): validation MSE [\d.]+, STS Spearman -?[\d.]+/);
    expect(stderr).toMatch(/step 2: validation MSE [\d.]+, STS Spearman -?[\d.]+/);
    const m = JSON.parse(await readFile(join(out, 'distill_metrics.json'), 'utf8')) as {
      history: { step: number; sts_spearman: number }[];
    };
    expect(m.history.map((h) => h.step)).toEqual([0, 2, 4]);
    expect(m.history.every((h) => Math.abs(h.sts_spearman) <= 1)).toBe(true);
    const card = await readFile(join(out, 'README.md'), 'utf8');
    expect(card).toContain('| epoch | validation MSE | STS Spearman |');
    expect(card).toMatch(/\| 0\.50 \(step 2\) \| [\d.]+ \| -?[\d.]+ \|/);
  }, 300_000);
});
