// Builds the extension into an unpacked folder: popup, offscreen page and service worker (Vite, relative paths; the
// embedding worker and the ORT wasm bundled inside: no remote code), the content script (one classic script),
// manifest.json, the icons, and a compiled model bundle copied into models/bundle/.
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export interface BuildOptions {
  /**
   * Host patterns granted at install (manifest host_permissions) instead of asked for from the popup. For automated
   * and headless browsers, where Chrome's permission prompt cannot be clicked; a normal build asks the user per site.
   */
  grantHosts?: string[];
}

/** A host pattern the manifest accepts for host_permissions: http(s) or any scheme, a host (or *.host or *), a path. */
const HOST_PATTERN = /^(https?|\*):\/\/(\*|(\*\.)?[^/*:]+)(:\d+)?\/.*$/;

export async function buildExtension(outDir: string, bundleDir: string, options: BuildOptions = {}): Promise<string> {
  const bad = options.grantHosts?.find((h) => !HOST_PATTERN.test(h));
  if (bad !== undefined)
    throw new Error(`not a host pattern: "${bad}" (expected e.g. http://127.0.0.1/* or https://*/*)`);
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
  // A content script is a classic script: its imports are bundled into one IIFE.
  await build({
    root: here,
    configFile: false,
    logLevel: 'error',
    build: {
      outDir: out,
      emptyOutDir: false,
      minify: true,
      lib: { entry: join(here, 'content.ts'), formats: ['iife'], name: 'hpdCapture', fileName: () => 'content.js' },
    },
  });
  const manifest = JSON.parse(await readFile(join(here, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  if (options.grantHosts?.length) manifest.host_permissions = options.grantHosts;
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await cp(join(here, 'icons'), join(out, 'icons'), { recursive: true });
  await mkdir(join(out, 'models'), { recursive: true });
  await cp(bundleDir, join(out, 'models', 'bundle'), { recursive: true });
  return out;
}

const USAGE = `usage: tsx examples/mv3-extension/build.ts <bundle-dir> [out-dir] [--grant-hosts <pattern>[,<pattern>…]]
  --grant-hosts  host patterns granted at install (e.g. 'http://127.0.0.1/*,http://localhost/*'), for a headless or
                 automated browser where Chrome's permission prompt cannot be clicked; repeatable. Default: none (the
                 popup asks per site).`;

// npx tsx examples/mv3-extension/build.ts <bundle-dir> [out-dir]  → load the out-dir with "Load unpacked".
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { 'grant-hosts': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const [bundle, out = join(here, 'dist')] = parsed.positionals;
  if (parsed.values.help || !bundle || parsed.positionals.length > 2) {
    console.error(USAGE);
    process.exit(parsed.values.help ? 0 : 2);
  }
  const grantHosts = (parsed.values['grant-hosts'] ?? []).flatMap((v) => v.split(',')).filter((h) => h.trim());
  try {
    console.log(`built ${await buildExtension(out, bundle, { grantHosts })}`);
  } catch (e) {
    console.error(`build.ts: ${(e as Error).message}`);
    process.exit(1);
  }
}
