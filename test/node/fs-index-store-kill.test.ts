// A child process saving a large index in a loop is SIGKILLed at random moments; after every kill the saved
// index loads as a complete snapshot equal to one the child saved, never older than the last acknowledged one.
// Runs: 50 (HPD_KILL_RUNS for more); seed: HPD_KILL_SEED.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderIndexStore } from '../../src/node/fs-index-store.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { seededRandom } from '../../src/seeded-random.js';
import { versionRow } from './save-loop-version.js';
import { useTempDir } from '../helpers/temp-dir.js';

const RUNS = Number(process.env.HPD_KILL_RUNS ?? 50);
const SEED = Number(process.env.HPD_KILL_SEED ?? 8);
const ROWS = 10_000;
const DIM = 128;
const child = fileURLToPath(new URL('./save-loop-child.ts', import.meta.url));

describe('fs index store under SIGKILL', () => {
  const tmp = useTempDir('hpd-kill-');

  it(`after each of ${RUNS} kills at random moments, load gives a complete saved snapshot`, async () => {
    const r = seededRandom(SEED);
    const base = new CosineIndex({ dim: DIM });
    base.addVectors(
      Array.from({ length: ROWS }, (_, i) => `doc-${i}`),
      new Float32Array(ROWS * DIM).map(() => r() - 0.5),
    );
    const baseFile = join(tmp(), 'base.hpdindex');
    await writeFile(baseFile, new Uint8Array(base.serialize()));
    const dir = join(tmp(), 'store');
    const store = folderIndexStore(dir);
    const expected = (v: number) => {
      const row = versionRow(DIM, v);
      base.upsertVectors(['version'], row.vector, [row.metadata]);
      return Buffer.from(base.serialize());
    };

    let acked = -1; // highest version the child reported as saved
    let next = 0;
    const landed = { before: 0, during: 0 }; // kills before the first save of a run completed, and after
    for (let run = 0; run < RUNS; run++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, baseFile, String(next)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      let ready!: () => void;
      const isReady = new Promise<void>((res) => (ready = res));
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) ready();
      });
      const exited = new Promise<NodeJS.Signals | null>((res) => proc.on('exit', (_code, signal) => res(signal)));
      await Promise.race([isReady, exited]);
      // A random moment within the first few saves (one save of this 5 MB index takes tens to hundreds of ms).
      await new Promise((res) => setTimeout(res, Math.floor(r() * 600)));
      proc.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const seen = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      if (seen.length === 0) landed.before++;
      else landed.during++;
      if (seen.length > 0) acked = Math.max(acked, ...seen);

      const bytes = await store.loadBytes('big'); // never throws, never undefined once a save was acknowledged
      if (acked < 0 && bytes === undefined) continue;
      expect(bytes).toBeDefined();
      const loaded = CosineIndex.deserialize(bytes!);
      const v = (loaded.get('version')?.metadata as { v: number }).v;
      expect(v).toBeGreaterThanOrEqual(acked);
      expect(v).toBeLessThan(next + seen.length + 3);
      // Buffer.equals: a deep toEqual over 5 MB is far too slow.
      expect(Buffer.from(bytes!).equals(expected(v))).toBe(true);
      next = Math.max(next + seen.length + 3, v + 1); // fresh versions for the next run
      // Temp files of killed writers are swept only when an hour old; remove them here to keep the disk small.
      for (const f of await readdir(dir)) if (f.endsWith('.tmp')) await rm(join(dir, f), { force: true });
    }
    console.info(
      `kill test: ${RUNS} kills, ${landed.during} after at least one save, ${landed.before} before the first; highest acknowledged version ${acked}`,
    );
    expect(landed.during).toBeGreaterThan(0);
  });
});
