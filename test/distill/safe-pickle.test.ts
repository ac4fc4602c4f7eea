// distill/ reads checkpoints from strangers: a pytorch_model.bin must not run code, and modules.json paths must stay
// inside the model folder (distill/safe_pickle.py, distill/paths.py).
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, TINY } from '../helpers/fixtures.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { runDistill, runPython, torchMissing } from './python.js';

if (torchMissing) console.warn(`skipping distill checkpoint safety tests: ${torchMissing}`);

// Writes a torch.save file whose state dict also holds an object that, unpickled, calls `callee(*args)`.
const CRAFT = `
import builtins, os, sys, torch
from distill import safetensors_io
out, kind, sentinel = sys.argv[1:4]
class Evil:
    def __reduce__(self):
        return (builtins.open, (sentinel, "w")) if kind == "open" else (os.system, ("touch " + sentinel,))
state = dict(safetensors_io.load(sys.argv[4]))
state["embeddings.evil"] = Evil()
torch.save(state, out)
`;
const RESAVE = `
import sys, torch
from distill import safetensors_io
torch.save(safetensors_io.load(sys.argv[1]), sys.argv[2])
`;

const f32 = async (path: string) => {
  const b = await readFile(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

describe.skipIf(Boolean(torchMissing))('distill reads checkpoints without running them', () => {
  const tmp = useTempDir('hpd-distill-safe-');
  let fixture: Awaited<ReturnType<typeof fixtureDir>> | undefined;

  beforeAll(async () => {
    fixture = await fixtureDir({ ...TINY, dim: 0 });
    await writeFile(join(tmp(), 's.txt'), 'a cat sat on the mat\nthe quick brown fox\n');
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });

  /** A copy of the fixture with pytorch_model.bin in place of model.safetensors. */
  async function binFolder(name: string): Promise<string> {
    const dir = join(tmp(), name);
    await cp(fixture!.dir, dir, { recursive: true });
    await rm(join(dir, 'model.safetensors'));
    return dir;
  }

  const embed = (model: string, out: string) =>
    runDistill(['embed', '--model', model, '--sentences', join(tmp(), 's.txt'), '--out', out], 120_000);

  for (const kind of ['open', 'system'] as const) {
    it(`a crafted pytorch_model.bin that calls ${kind === 'open' ? 'builtins.open' : 'os.system'} is refused and runs nothing`, async () => {
      const dir = await binFolder(`evil-${kind}`);
      const sentinel = join(tmp(), `sentinel-${kind}`);
      await runPython(CRAFT, [join(dir, 'pytorch_model.bin'), kind, sentinel, join(fixture!.dir, 'model.safetensors')]);
      expect(existsSync(sentinel)).toBe(false);
      const callee = kind === 'open' ? /io\.open|builtins\.open/ : /posix\.system|os\.system/;
      const err = await embed(dir, join(tmp(), `evil-${kind}.f32`)).then(
        () => new Error('embed succeeded'),
        (e: Error) => e,
      );
      expect(err.message).toMatch(/python -m distill: error: .*pytorch_model\.bin: refused: it asks to load/);
      expect(err.message).toMatch(callee);
      expect(err.message).not.toMatch(/Traceback/);
      expect(existsSync(sentinel)).toBe(false);
      expect(existsSync(join(tmp(), `evil-${kind}.f32`))).toBe(false);
    }, 180_000);
  }

  it('a legitimate pytorch_model.bin loads and embeds exactly as its safetensors twin', async () => {
    const dir = await binFolder('legit');
    await runPython(RESAVE, [join(fixture!.dir, 'model.safetensors'), join(dir, 'pytorch_model.bin')]);
    await embed(fixture!.dir, join(tmp(), 'st.f32'));
    await embed(dir, join(tmp(), 'bin.f32'));
    expect(Array.from(await f32(join(tmp(), 'bin.f32')))).toEqual(Array.from(await f32(join(tmp(), 'st.f32'))));
  }, 180_000);

  for (const path of ['../x', '/etc', '1_Pooling/../../x', '%2e%2e/x'])
    it(`a modules.json path ${JSON.stringify(path)} is refused`, async () => {
      const dir = join(tmp(), `modules-${encodeURIComponent(path)}`);
      await cp(fixture!.dir, dir, { recursive: true });
      const modules = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as { path: string; type: string }[];
      modules.find((m) => m.type.endsWith('Pooling'))!.path = path;
      await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
      await expect(embed(dir, join(tmp(), 'm.f32'))).rejects.toThrow(
        /python -m distill: error: .*modules\.json: path .* is refused: it (has a "\." or "\.\." segment|is absolute)/,
      );
    }, 120_000);

  it('a modules.json path through a symlink that leaves the folder is refused', async () => {
    const dir = join(tmp(), 'modules-symlink');
    await cp(fixture!.dir, dir, { recursive: true });
    await mkdir(join(tmp(), 'outside'));
    await cp(join(dir, '1_Pooling'), join(tmp(), 'outside', '1_Pooling'), { recursive: true });
    await symlink(join(tmp(), 'outside'), join(dir, 'elsewhere'));
    const modules = JSON.parse(await readFile(join(dir, 'modules.json'), 'utf8')) as { path: string; type: string }[];
    modules.find((m) => m.type.endsWith('Pooling'))!.path = 'elsewhere/1_Pooling';
    await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
    await expect(embed(dir, join(tmp(), 'm.f32'))).rejects.toThrow(
      /error: .*modules\.json: path 'elsewhere\/1_Pooling' leads outside .* \(through a symbolic link\)/,
    );
  }, 120_000);

  for (const [file, text, message] of [
    ['modules.json', '{"0": {"path": ""}}', /modules\.json: expected a JSON array/],
    ['modules.json', '[1, 2]', /modules\.json: every module must be an object with an integer idx/],
    ['config.json', '[]', /config\.json: expected a JSON object/],
    [
      'config.json',
      '{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}',
      /config\.json: .*missing or not a positive integer/,
    ],
  ] as const)
    it(`a malformed ${file} (${text.slice(0, 24)}…) is one clear error`, async () => {
      const dir = join(tmp(), `malformed-${file}-${text.length}`);
      await cp(fixture!.dir, dir, { recursive: true });
      await writeFile(join(dir, file), text);
      const err = await embed(dir, join(tmp(), 'm.f32')).then(
        () => new Error('embed succeeded'),
        (e: Error) => e,
      );
      expect(err.message).toMatch(message);
      expect(err.message).not.toMatch(/Traceback/);
    }, 120_000);

  it('a pytorch_model.bin with compressed entries (never written by torch.save) is refused', async () => {
    const dir = await binFolder('deflated');
    await runPython(
      `import sys, zipfile, torch
from distill import safetensors_io
torch.save(safetensors_io.load(sys.argv[1]), sys.argv[2] + ".plain")
with zipfile.ZipFile(sys.argv[2] + ".plain") as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for i in src.infolist():
        dst.writestr(i.filename, src.read(i.filename))
`,
      [join(fixture!.dir, 'model.safetensors'), join(dir, 'pytorch_model.bin')],
    );
    await rm(join(dir, 'pytorch_model.bin.plain'));
    await expect(embed(dir, join(tmp(), 'deflated.f32'))).rejects.toThrow(
      /pytorch_model\.bin: has compressed entries, which torch\.save never writes; refused/,
    );
  }, 120_000);
});
