import { describe, expect, it } from 'vitest';
import { folderUrl, readModelString, resolveModelSpec } from '../../src/model/spec.js';

describe('one rule for model strings (browser and Node alike)', () => {
  it('owner/name[@revision] is a Hub repo id; ./, ../, / and C:\\ start paths; scheme: is a URL', () => {
    expect(readModelString('models/hpd')).toEqual({ kind: 'hub', repo: { repo: 'models/hpd', revision: 'main' } });
    expect(readModelString('Xuandong/HPD-MiniLM-F128@abc')).toMatchObject({ kind: 'hub', repo: { revision: 'abc' } });
    for (const path of ['./models/hpd', '../models/hpd', '/srv/models/hpd', 'C:\\models\\hpd', '.', '..'])
      expect(readModelString(path)).toEqual({ kind: 'path', path });
    for (const url of ['https://x.org/m/', 'file:///srv/m/', 'http://127.0.0.1:8080/a/b'])
      expect(readModelString(url)).toEqual({ kind: 'url', url });
    // Not Hub-shaped: one name, three segments, a trailing slash: paths relative to the page or the cwd.
    for (const path of ['hpd', 'models/hpd/', 'a/b/c']) expect(readModelString(path)).toEqual({ kind: 'path', path });
  });

  it('the host resolves paths only; Hub ids, URLs and files pass unchanged', () => {
    const page = 'https://site.example/app/index.html';
    const toUrl = (p: string) => folderUrl(p, page);
    expect(resolveModelSpec('./models/hpd', toUrl)).toBe('https://site.example/app/models/hpd/');
    expect(resolveModelSpec('/models/hpd/', toUrl)).toBe('https://site.example/models/hpd/');
    expect(resolveModelSpec('models/hpd', toUrl)).toBe('models/hpd');
    expect(resolveModelSpec('https://cdn.example/m', toUrl)).toBe('https://cdn.example/m');
    const files = { files: {} };
    expect(resolveModelSpec(files, toUrl)).toBe(files);
  });
});
