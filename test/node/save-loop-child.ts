// Child process for fs-index-store-kill.test.ts: saves a large index in a loop (two overlapping saves per round) until it is killed.
// argv: <dir> <base snapshot file> <first version>. Snapshot v = the base index + id "version" upserted with vector/metadata v.
import { readFileSync } from 'node:fs';
import { folderIndexStore } from '../../src/node/fs-index-store.js';
import { CosineIndex } from '../../src/search/cosine-index.js';
import { versionRow } from './save-loop-version.js';

const [dir, baseFile, first] = process.argv.slice(2);
const index = CosineIndex.deserialize(readFileSync(baseFile));
const store = folderIndexStore(dir);
process.stdout.write('ready\n');
const save = (v: number) => {
  const row = versionRow(index.dim, v);
  index.upsertVectors(['version'], row.vector, [row.metadata]);
  return store.saveBytes('big', index.serialize()).then(() => process.stdout.write(`saved ${v}\n`));
};
// Two overlapping saves per round, as `h.save(); h.upsert(...); h.save()` without awaiting gives.
for (let v = Number(first); ; v += 2) await Promise.all([save(v), save(v + 1)]);
