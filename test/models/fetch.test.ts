import { readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchModel } from '../../models/fetch.js';
import { fixtureDir, TINY } from '../helpers/fixtures.js';
import { startHubServer } from '../helpers/hub-server.js';

describe('npm run models:fetch', () => {
  it('downloads the pinned revision from a Hub-layout server and compiles a bundle', async () => {
    const pinned = JSON.parse(
      await readFile(new URL('../../models/hpd-minilm-f128.model.json', import.meta.url), 'utf8'),
    ) as { repo: string; revision: string };
    const fx = await fixtureDir(TINY);
    const out = await mkdtemp(join(tmpdir(), 'hpd-models-'));
    const hub = await startHubServer({ [pinned.repo]: { [pinned.revision]: fx.dir } });
    try {
      const log: string[] = [];
      const dir = await fetchModel(['--hub-url', hub.url, '--out', join(out, 'bundle'), '--dtype', 'int8'], (s) =>
        log.push(s),
      );
      const manifest = JSON.parse(await readFile(join(dir, 'hpd.json'), 'utf8'));
      expect(manifest).toMatchObject({
        name: 'hpd-minilm-f128',
        source: { repo: pinned.repo, revision: pinned.revision },
        dtype: 'int8',
        dim: 16,
      });
      expect(hub.requests).toContain(`/${pinned.repo}/resolve/${pinned.revision}/modules.json`);
      expect(hub.requests.every((r) => r.includes(`/resolve/${pinned.revision}/`))).toBe(true);
      expect(log.join('')).toMatch(/dtype int8/);
      expect(manifest.probes.texts.length).toBeGreaterThan(0); // built like every bundle: golden probes included
      await expect(fetchModel(['--hub-url', hub.url, '--out', join(out, 'x'), '--dtype', 'q4'])).rejects.toMatchObject({
        code: 'UNSUPPORTED_DTYPE',
      });
    } finally {
      await hub.close();
      await fx.cleanup();
      await rm(out, { recursive: true, force: true });
    }
  });
});
