import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/node/cli.js';
import { compiledFixture, type CompiledFixture } from '../helpers/compiled-fixture.js';
import { startHubServer } from '../helpers/hub-server.js';
import { capture } from '../helpers/cli-capture.js';

const listen = (s: Server) =>
  new Promise<number>((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as { port: number }).port)));

/** Entries of the user's real model cache (test/helpers/vitest-setup.ts keeps HOME elsewhere). */
const realCache = join(process.env.HPD_TEST_REAL_HOME!, '.cache', 'hpd-embed');
const realCacheEntries = () => (existsSync(realCache) ? readdirSync(realCache).sort() : undefined);

describe('hpd-embed eval', () => {
  let root = '';
  let fixture: CompiledFixture;
  let bundle = '';
  const realBefore = realCacheEntries();

  let cacheBefore: string | undefined;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hpd-cli-eval-'));
    // The CLI caches compiled checkpoints in $HPD_EMBED_CACHE: this test's own folder, never the user's home.
    cacheBefore = process.env.HPD_EMBED_CACHE;
    process.env.HPD_EMBED_CACHE = join(root, 'cache');
    fixture = await compiledFixture();
    bundle = await fixture.bundleDir();
    await writeFile(
      join(root, 'pairs.tsv'),
      'the cat sat\ta cat sat down\t4.5\nthe dog ran\tstocks fell today\t0.5\nquick brown fox\tthe quick fox\t3.8\nmusic film\tcar road city\t1\n',
    );
    const beir = join(root, 'beir');
    await mkdir(join(beir, 'qrels'), { recursive: true });
    await writeFile(
      join(beir, 'corpus.jsonl'),
      ['cats sat on the mat', 'dogs run on the road', 'the market fell', 'music and film']
        .map((t, i) => JSON.stringify({ _id: `d${i}`, title: '', text: t }))
        .join('\n'),
    );
    await writeFile(
      join(beir, 'queries.jsonl'),
      ['cat mat', 'film music'].map((t, i) => JSON.stringify({ _id: `q${i}`, text: t })).join('\n'),
    );
    await writeFile(join(beir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td3\t1\n');
  }, 120_000);

  afterAll(async () => {
    if (cacheBefore === undefined) delete process.env.HPD_EMBED_CACHE;
    else process.env.HPD_EMBED_CACHE = cacheBefore;
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('--sts --json prints exactly one object with the specified keys', async () => {
    const io = capture();
    expect(
      await main(['eval', '--model', bundle, '--sts', join(root, 'pairs.tsv'), '--device', 'wasm', '--json'], io),
    ).toBe(0);
    const lines = io.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(Object.keys(r)).toEqual([
      'task',
      'pairs',
      'spearman',
      'pearson',
      'model',
      'dtype',
      'device',
      'randomWeights',
    ]);
    // The fixture's weights are random, and the result says so.
    expect(r).toMatchObject({
      task: 'sts',
      pairs: 4,
      model: bundle,
      dtype: 'fp32',
      device: 'wasm',
      randomWeights: true,
    });
    const text = capture();
    expect(await main(['eval', '--model', bundle, '--sts', join(root, 'pairs.tsv'), '--device', 'wasm'], text)).toBe(0);
    expect(text.stdout).toMatch(/Spearman -?[\d.]+, .*RANDOM WEIGHTS: RANKINGS ARE MEANINGLESS\)\n$/);
    expect(text.stderr).toMatch(/^model .*random weights: rankings are meaningless/m);
    expect(Math.abs(r.spearman)).toBeLessThanOrEqual(100);
  }, 120_000);

  it('--retrieval reports nDCG@10, MRR@10, recall@10/100, bytes and latency for f32 and int8', async () => {
    const io = capture();
    expect(await main(['eval', '--model', bundle, '--retrieval', join(root, 'beir'), '--device', 'wasm'], io)).toBe(0);
    expect(io.stdout).toMatch(/4 documents, 2 queries/);
    expect(io.stdout).toMatch(
      /f32 +nDCG@10 [\d.]+ +MRR@10 [\d.]+ +R@10 100\.00 +R@100 100\.00 +index \d+ bytes +search p50/,
    );
    expect(io.stdout).toMatch(/int8 +nDCG@10/);
    expect(io.stdout).toMatch(/^retrieval .*RANDOM WEIGHTS: RANKINGS ARE MEANINGLESS/);
    const j = capture();
    expect(
      await main(['eval', '--model', bundle, '--retrieval', join(root, 'beir'), '--device', 'wasm', '--json'], j),
    ).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({
      task: 'retrieval',
      corpus: 4,
      queries: 2,
      results: [{ storage: 'f32' }, { storage: 'int8' }],
      randomWeights: true,
    });
  }, 120_000);

  it('--mode keyword|hybrid reports the same metrics, and --json adds mode', async () => {
    for (const mode of ['keyword', 'hybrid']) {
      const j = capture();
      const args = ['eval', '--model', bundle, '--retrieval', join(root, 'beir'), '--device', 'wasm', '--mode', mode];
      expect(await main([...args, '--json'], j)).toBe(0);
      const r = JSON.parse(j.stdout);
      expect(r).toMatchObject({ task: 'retrieval', mode, corpus: 4, queries: 2 });
      expect(Object.keys(r.results[0]).sort()).toEqual(
        ['indexBytes', 'latencyMs', 'mrr10', 'ndcg10', 'recall10', 'recall100', 'storage'].sort(),
      );
      if (mode === 'keyword') expect(r.results[0].ndcg10).toBe(100); // each query's words are its document's
      const text = capture();
      expect(await main(args, text)).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^retrieval .* \\(${mode}\\): 4 documents`));
    }
    const bad = capture();
    expect(await main(['eval', '--model', bundle, '--retrieval', join(root, 'beir'), '--mode', 'bm25'], bad)).toBe(2);
    expect(bad.stderr).toMatch(/--mode must be one of vector, keyword, hybrid/);
  }, 120_000);

  it('bad input fails before any model is loaded', async () => {
    const io = capture();
    expect(
      await main(
        ['eval', '--model', 'no/such-model', '--sts', join(root, 'missing.tsv'), '--hub-url', 'http://127.0.0.1:9'],
        io,
      ),
    ).toBe(1);
    expect(io.stderr).toMatch(/cannot read STS file .*missing\.tsv.*\[INVALID_INPUT\]/);
    const both = capture();
    expect(await main(['eval', '--model', bundle], both)).toBe(2); // a usage error: the message, then eval's usage
    expect(both.stderr).toMatch(/exactly one of --sts[\s\S]*hpd-embed eval --model/);
  });

  it('an unreachable Hub fails fast with a clear error: refused port, and a server that never answers', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((ok) => closed.close(ok));
    const t0 = performance.now();
    const io = capture();
    expect(
      await main(
        [
          'eval',
          '--model',
          'Xuandong/HPD-MiniLM-F128',
          '--sts',
          join(root, 'pairs.tsv'),
          '--hub-url',
          `http://127.0.0.1:${port}`,
        ],
        io,
      ),
    ).toBe(1);
    expect(io.stderr).toMatch(
      /cannot reach the Hugging Face Hub for Xuandong\/HPD-MiniLM-F128 at http:\/\/127\.0\.0\.1:\d+ \(.*\).*\[MODEL_FETCH_FAILED\]/,
    );
    expect(performance.now() - t0).toBeLessThan(20_000);

    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s)); // accepts, never answers
    const silentPort = await listen(silent);
    try {
      const io2 = capture();
      const t1 = performance.now();
      expect(
        await main(
          [
            'eval',
            '--model',
            'Xuandong/HPD-MiniLM-F128',
            '--sts',
            join(root, 'pairs.tsv'),
            '--hub-url',
            `http://127.0.0.1:${silentPort}`,
            '--hub-timeout',
            '1',
          ],
          io2,
        ),
      ).toBe(1);
      expect(io2.stderr).toMatch(/no answer within 1 s.*\[MODEL_FETCH_FAILED\]/);
      expect(performance.now() - t1).toBeLessThan(20_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((ok) => silent.close(ok));
    }
  }, 60_000);

  it('evaluates a Hub repo id through a reachable (local) Hub', async () => {
    const hub = await startHubServer({ 'test/eval-ckpt': { main: fixture.checkpointDir } });
    try {
      const io = capture();
      expect(
        await main(
          [
            'eval',
            '--model',
            'test/eval-ckpt',
            '--hub-url',
            hub.url,
            '--sts',
            join(root, 'pairs.tsv'),
            '--device',
            'wasm',
            '--json',
          ],
          io,
        ),
      ).toBe(0);
      expect(JSON.parse(io.stdout)).toMatchObject({ task: 'sts', pairs: 4, model: 'test/eval-ckpt' });
      // The compiled checkpoint went into this test's cache folder, and none of its entries (keyed by the server's
      // random port) into the user's home; other processes may write there, so only this test's keys are checked.
      const mine = await readdir(join(root, 'cache'));
      expect(mine.length).toBeGreaterThan(0);
      const added = (realCacheEntries() ?? []).filter((f) => !realBefore?.includes(f));
      expect(added.filter((f) => mine.includes(f))).toEqual([]);
    } finally {
      await hub.close();
    }
  }, 120_000);
});
