#!/usr/bin/env node
// Runs the compiled CLI: dist/ ships in the package (built by `prepack`); a git checkout builds it with `npm run build`.
try {
  await import('../dist/node/bin.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/node/bin.js')) throw e;
  console.error('hpd-embed: dist/ is missing in this checkout. Run `npm run build` first.');
  process.exit(1);
}
