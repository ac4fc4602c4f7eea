// Builds the example extension into an unpacked folder: the offscreen page (Vite, relative paths, worker and
// ORT wasm bundled inside: no remote code), manifest.json, background.js, and a compiled model bundle.
import { cp, copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildExtension(outDir: string, bundleDir: string): Promise<string> {
  const out = resolve(outDir);
  await build({
    root: here,
    base: './',
    configFile: false,
    logLevel: 'error',
    worker: { format: 'es' },
    build: { outDir: out, emptyOutDir: true, minify: true, rollupOptions: { input: join(here, 'offscreen.html') } },
  });
  await copyFile(join(here, 'manifest.json'), join(out, 'manifest.json'));
  await copyFile(join(here, 'background.js'), join(out, 'background.js'));
  await mkdir(join(out, 'models'), { recursive: true });
  await cp(bundleDir, join(out, 'models', 'bundle'), { recursive: true });
  return out;
}

// npx tsx examples/mv3-extension/build.ts <bundle-dir> [out-dir]  → load the out-dir with "Load unpacked".
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [bundle, out = join(here, 'dist')] = process.argv.slice(2);
  if (!bundle) {
    console.error('usage: tsx examples/mv3-extension/build.ts <bundle-dir> [out-dir]');
    process.exit(2);
  }
  console.log(`built ${await buildExtension(out, bundle)}`);
}
