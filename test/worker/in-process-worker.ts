// An Embedder whose worker is a WorkerApi in this process behind a real comlink MessageChannel, with a fake engine
// (vectors from the text alone; embeds that finish out of order) and a memory index store with delays.
import { MessageChannel } from 'node:worker_threads';
import { afterEach, vi } from 'vitest';
import { Embedder } from '../../src/api/embedder.js';
import { Engine, type Platform } from '../../src/engine/engine.js';
import { InvalidInputError } from '../../src/errors.js';
import { seededRandom } from '../../src/seeded-random.js';
import type { IndexStore } from '../../src/search/index-store.js';
import { exposeWorkerApi, WorkerApi } from '../../src/worker/worker-api.js';
import { exposeOn } from '../protocol/channel.js';

export const DIM = 16;
/** The fake model's identity, as index files record it. */
export const FAKE_MODEL_SHA256 = 'f'.repeat(64);
export const FAKE_MODEL = { name: 'fake', dim: DIM, dtype: 'fp32', sha256: FAKE_MODEL_SHA256 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A text's vector: a function of the text alone, so a replay embeds the same numbers. */
export function textVector(text: string): Float32Array {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  const rand = seededRandom(h);
  return Float32Array.from({ length: DIM }, () => rand() * 2 - 1);
}

/**
 * The engine the worker sees: texts starting with "slow" take 40 ms, others a random 0–6 ms, so embeds finish out of
 * order; the text "FAIL" fails its whole embed.
 */
function fakeEngine(rand: () => number, embeds: string[][]): Engine {
  return {
    dim: DIM,
    info: {
      name: 'fake',
      dim: DIM,
      maxTokens: 32,
      dtype: 'fp32',
      sha256: FAKE_MODEL_SHA256,
      device: 'wasm',
      origin: { kind: 'bundle', location: 'fake', fromCache: false },
    },
    device: { requested: 'wasm', actual: 'wasm', reason: 'fake' },
    async embed(texts: readonly string[]) {
      embeds.push([...texts]);
      await sleep(texts.some((t) => t.startsWith('slow')) ? 40 : Math.floor(rand() * 7));
      if (texts.includes('FAIL')) throw new InvalidInputError('this fake engine refuses "FAIL".');
      const vectors = new Float32Array(texts.length * DIM);
      texts.forEach((t, i) => vectors.set(textVector(t), i * DIM));
      return { vectors, truncated: [] };
    },
    async dispose() {},
  } as unknown as Engine;
}

/** Snapshots in memory; each operation waits a little (`slowSaves`: saves wait 30 ms), so they can overlap. */
export class MemoryStore implements IndexStore {
  readonly persistence = 'custom';
  readonly saved = new Map<string, Uint8Array>();
  /** Every write that reached the store, in order: the bytes a save wrote, or a delete. */
  readonly history: { name: string; bytes?: Uint8Array; deleted?: boolean }[] = [];
  slowSaves = false;
  constructor(private rand: () => number) {}
  private pause = () => sleep(Math.floor(this.rand() * 5));
  async saveBytes(name: string, bytes: ArrayBuffer): Promise<void> {
    await (this.slowSaves ? sleep(30) : this.pause());
    this.saved.set(name, new Uint8Array(bytes.slice(0)));
    this.history.push({ name, bytes: this.saved.get(name) });
  }
  async loadBytes(name: string): Promise<ArrayBuffer | undefined> {
    await this.pause();
    return this.saved.get(name)?.slice().buffer;
  }
  async delete(name: string): Promise<boolean> {
    await this.pause();
    this.history.push({ name, deleted: true });
    return this.saved.delete(name);
  }
}

export interface Rig {
  embedder: Embedder;
  store: MemoryStore;
  api: WorkerApi;
  /** The texts of each embed the worker ran, in the order they started. */
  embeds: string[][];
}

const rigs: Embedder[] = [];

/** An Embedder whose worker is a WorkerApi in this process, behind a real comlink MessageChannel. */
export async function rig(seed: number, platform: Partial<Platform> = {}): Promise<Rig> {
  const rand = seededRandom(seed);
  const embeds: string[][] = [];
  vi.spyOn(Engine, 'create').mockImplementation(async () => fakeEngine(rand, embeds));
  const store = new MemoryStore(seededRandom(seed + 1));
  const api = new WorkerApi(platform as Platform, async () => store);
  const ch = new MessageChannel();
  exposeWorkerApi(api, exposeOn.endpoint(ch.port1));
  const embedder = await Embedder.start(
    () => ({
      endpoint: exposeOn.endpoint(ch.port2),
      onCrash() {},
      terminate() {
        ch.port1.close();
        ch.port2.close();
      },
    }),
    { model: 'fake' },
  );
  rigs.push(embedder);
  return { embedder, store, embeds, api };
}

// Every rig a test started is disposed after it.
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((e) => e.dispose()));
  vi.restoreAllMocks();
});
