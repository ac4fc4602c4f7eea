// Builds the extension into an unpacked folder: popup, offscreen page and service worker (Vite, relative paths; the
// embedding worker and the ORT wasm bundled inside: no remote code), the content script, manifest.json, and a
// compiled model bundle copied into models/bundle/.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export interface BuildOptions {
  /**
   * Host patterns granted at install (manifest host_permissions) instead of asked for from the popup. For automated
   * tests, where Chrome's permission prompt cannot be clicked; a normal build asks the user per site.
   */
  grantHosts?: string[];
}

export async function buildExtension(outDir: string, bundleDir: string, options: BuildOptions = {}): Promise<string> {
  const out = resolve(outDir);
  await build({
    root: here,
    base: './',
    configFile: false,
    logLevel: 'error',
    worker: { format: 'es' },
    build: {
      outDir: out,
      emptyOutDir: true,
      minify: true,
      modulePreload: { polyfill: false },
      rollupOptions: {
        input: {
          offscreen: join(here, 'offscreen.html'),
          popup: join(here, 'popup.html'),
          background: join(here, 'background.ts'),
        },
        // The manifest names the service worker by a fixed file name.
        output: { entryFileNames: (c) => (c.name === 'background' ? 'background.js' : 'assets/[name]-[hash].js') },
      },
    },
  });
  // A content script is a classic script, so it is compiled alone (it imports nothing).
  const content = ts.transpileModule(await readFile(join(here, 'content.ts'), 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None },
  });
  await writeFile(join(out, 'content.js'), content.outputText);
  const manifest = JSON.parse(await readFile(join(here, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  if (options.grantHosts?.length) manifest.host_permissions = options.grantHosts;
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
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
