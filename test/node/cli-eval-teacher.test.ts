// `hpd-embed eval --retrieval … --teacher-corpus`: student queries against a teacher-embedded corpus projected into
// the student's space, checked against metrics computed here from float64 reference vectors.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/node/cli.js';
import type { TeacherProjection } from '../../src/search/project-teacher.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { npyBytes, writeDistilledBundle } from '../helpers/teacher-files.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { referenceProjectTeacher } from '../reference/teacher-projection.js';
import { capture } from '../helpers/cli-capture.js';

const D = 24;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const unit = (a: number[]) => a.map((v) => v / Math.hypot(...a));

/** Rows of a random d × D matrix made orthonormal (Gram–Schmidt in float64). */
function orthonormalRows(d: number, seed: number): number[][] {
  const r = seededRandom(seed);
  const rows: number[][] = [];
  while (rows.length < d) {
    let v = Array.from({ length: D }, () => r() - 0.5);
    for (const u of rows) v = v.map((x, j) => x - dot(v, u) * u[j]);
    rows.push(unit(v));
  }
  return rows;
}

const QUERIES = ['cat mat', 'film music', 'stocks fell'];
const QRELS: [number, number][] = [
  [0, 0],
  [1, 3],
  [2, 5],
];

describe('hpd-embed eval --teacher-corpus', () => {
  const tmp = useTempDir('hpd-cli-eval-teacher-');
  let fixture: CompiledFixture;
  let bundle = '';
  let beir = '';
  let teacher = '';
  let projection: TeacherProjection;
  let x: Float32Array;
  let queries: Float64Array[];

  beforeAll(async () => {
    fixture = await compiledFixture();
    queries = await fixture.expected(QUERIES);
    const d = queries[0].length;
    const C = orthonormalRows(d, 11);
    const r = seededRandom(12);
    projection = {
      teacherDim: D,
      dim: d,
      center: true,
      components: Float32Array.from(C.flat()),
      mean: Float32Array.from({ length: D }, () => 2 * r() - 1),
    };
    bundle = await writeDistilledBundle(join(tmp(), 'student'), fixture.checkpoint(), projection);

    // Targets in the student's space: document 0 is query 0; document 2 is query 1 exactly but is not its relevant
    // one (document 3, query 1 turned 40° towards a direction no query has, is); document 5 points away from every
    // query. A teacher vector is mean + t·C plus noise the projection removes (in C's null space).
    let away = Array.from({ length: d }, () => r() - 0.5);
    for (const q of queries) {
      const u = unit(Array.from(q));
      away = away.map((v, i) => v - dot(away, u) * u[i]);
    }
    away = unit(away);
    const q1 = Array.from(queries[1]);
    const a = (40 * Math.PI) / 180;
    const targets = [
      Array.from(queries[0]),
      unit(Array.from({ length: d }, () => r() - 0.5)),
      q1,
      unit(q1.map((v, i) => Math.cos(a) * v + Math.sin(a) * away[i])),
      unit(Array.from({ length: d }, () => r() - 0.5)),
      away,
    ];
    x = new Float32Array(targets.length * D);
    targets.forEach((t, n) => {
      let noise = Array.from({ length: D }, () => 3 * (r() - 0.5));
      for (const c of C) noise = noise.map((v, j) => v - dot(noise, c) * c[j]);
      for (let j = 0; j < D; j++)
        x[n * D + j] = projection.mean[j] + noise[j] + t.reduce((s, ti, i) => s + 2 * ti * C[i][j], 0);
    });

    beir = join(tmp(), 'beir');
    await mkdir(join(beir, 'qrels'), { recursive: true });
    await writeFile(
      join(beir, 'corpus.jsonl'),
      targets.map((_, i) => JSON.stringify({ _id: `d${i}`, text: `document number ${i}` })).join('\n'),
    );
    await writeFile(
      join(beir, 'queries.jsonl'),
      QUERIES.map((t, i) => JSON.stringify({ _id: `q${i}`, text: t })).join('\n'),
    );
    await writeFile(
      join(beir, 'qrels', 'test.tsv'),
      `query-id\tcorpus-id\tscore\n${QRELS.map(([q, c]) => `q${q}\td${c}\t1`).join('\n')}\n`,
    );
    teacher = join(tmp(), 'teacher-corpus.npy');
    await writeFile(teacher, npyBytes(x, targets.length, D));
  }, 120_000);

  it('scores student queries against the projected teacher corpus: the metrics computed here', async () => {
    // The reference: float64 projection of the teacher vectors, float64 student queries, cosine ranks.
    const docs = referenceProjectTeacher(x, projection);
    const ranks = QRELS.map(([q, c]) => {
      const scores = docs.map((v) => dot(v, queries[q]) / Math.hypot(...queries[q]));
      const sorted = [...scores].sort((s, t) => t - s);
      // Every gap is wide enough that float32 and int8 rounding cannot swap two documents.
      for (let i = 1; i < sorted.length; i++) expect(sorted[i - 1] - sorted[i]).toBeGreaterThan(0.02);
      return 1 + scores.filter((s) => s > scores[c]).length;
    });
    expect(ranks).toContain(1);
    expect(ranks.some((k) => k > 1)).toBe(true); // not all first: the scores below say something
    const mrr = (100 * ranks.reduce((s, k) => s + 1 / k, 0)) / ranks.length;
    const ndcg = (100 * ranks.reduce((s, k) => s + 1 / Math.log2(k + 1), 0)) / ranks.length;

    const io = capture();
    const args = ['eval', '--model', bundle, '--retrieval', beir, '--teacher-corpus', teacher, '--device', 'wasm'];
    expect(await main([...args, '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout);
    expect(r).toMatchObject({ task: 'retrieval', corpus: 6, queries: 3, teacherCorpus: true, randomWeights: true });
    expect(r.results.map((s: { storage: string }) => s.storage)).toEqual(['f32', 'int8']);
    for (const s of r.results) {
      expect(s.mrr10).toBeCloseTo(mrr, 6);
      expect(s.ndcg10).toBeCloseTo(ndcg, 6);
      expect(s.recall10).toBeCloseTo(100, 6);
      expect(s.recall100).toBeCloseTo(100, 6);
    }

    const text = capture();
    expect(await main(args, text)).toBe(0);
    expect(text.stdout).toMatch(
      /^retrieval .*beir \(teacher corpus .*teacher-corpus\.npy, projected\) \(vector\): 6 documents/,
    );
    expect(text.stdout).toMatch(new RegExp(`f32 +nDCG@10 ${ndcg.toFixed(2)} +MRR@10 ${mrr.toFixed(2)} `));

    // The same folder without --teacher-corpus embeds the corpus with the student, and says teacherCorpus: false.
    const plain = capture();
    expect(await main(['eval', '--model', bundle, '--retrieval', beir, '--device', 'wasm', '--json'], plain)).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ teacherCorpus: false, corpus: 6 });
  }, 120_000);

  it('bad teacher-corpus input fails before a model is loaded, with a typed error or a usage error', async () => {
    const rows5 = join(tmp(), 'five.npy');
    await writeFile(rows5, npyBytes(x.subarray(0, 5 * D), 5, D));
    const raw = join(tmp(), 'teacher.f32');
    await writeFile(raw, x);
    const noProjection = await fixture.bundleDir();
    const cases: [string[], number, RegExp][] = [
      [
        ['--model', bundle, '--retrieval', beir, '--teacher-corpus', rows5],
        1,
        /holds 5 vectors but the corpus has 6 documents; embed every corpus\.jsonl line, in order.*\[INVALID_INPUT\]/,
      ],
      [
        ['--model', noProjection, '--retrieval', beir, '--teacher-corpus', teacher],
        1,
        /has no teacher projection: it was not compiled from a distilled student.*\[MODEL_INVALID\]/,
      ],
      [
        ['--model', 'owner/not-a-folder', '--retrieval', beir, '--teacher-corpus', teacher],
        1,
        /--teacher-corpus needs --model to be a compiled bundle folder.*\[INVALID_INPUT\]/,
      ],
      [
        ['--model', bundle, '--retrieval', beir, '--teacher-corpus', raw],
        1,
        /raw float32 rows need --teacher-dim D.*\[INVALID_INPUT\]/,
      ],
      [
        ['--model', bundle, '--retrieval', beir, '--teacher-corpus', raw, '--teacher-dim', '12'],
        1,
        /holds 12-d vectors but the bundle's teacher projection expects 24-d ones.*\[DIM_MISMATCH\]/,
      ],
      [
        ['--model', bundle, '--sts', join(beir, 'corpus.jsonl'), '--teacher-corpus', teacher],
        2,
        /goes with --retrieval/,
      ],
      [['--model', bundle, '--retrieval', beir, '--teacher-dim', '24'], 2, /--teacher-dim goes with --teacher-corpus/],
    ];
    for (const [args, code, message] of cases) {
      const io = capture();
      const got = await main(['eval', ...args, '--hub-url', 'http://127.0.0.1:9'], io);
      expect({ args, got, stderr: io.stderr }).toMatchObject({ got: code, stderr: expect.stringMatching(message) });
      expect(io.stderr).not.toMatch(/^model /m); // no model was loaded
    }
    // The raw float32 form with --teacher-dim is accepted.
    const ok = capture();
    expect(
      await main(
        [
          ...['eval', '--model', bundle, '--retrieval', beir, '--device', 'wasm', '--json'],
          ...['--teacher-corpus', raw, '--teacher-dim', '24'],
        ],
        ok,
      ),
    ).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ teacherCorpus: true, corpus: 6 });
  }, 120_000);
});
