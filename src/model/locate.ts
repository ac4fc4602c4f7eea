// Where a model string points: its folder URL (a Hub repo's resolve/ URL, or the URL itself), and each file's URL,
// confined to that folder. Paths are the host's to resolve (spec.ts); they never reach here.
import { resolveInside, unsafePathReason } from '../bundle/path.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { hubFileUrl, type HubRepo } from './hub.js';
import { folderUrl, readModelString } from './spec.js';

/** Where a model string points once resolved: its folder URL, the URL of each file in it, and its Hub repo if any. */
export interface Remote {
  spec: string;
  base: string;
  repo: HubRepo | undefined;
  hubUrl: string;
  url: (path: string) => string;
}

/** The folder a model string names, by the one rule of spec.ts; paths must have been resolved on the host. */
export function locate(spec: string, hubUrl: string): Remote {
  const s = readModelString(spec);
  if (s.kind === 'path')
    throw new InvalidInputError(
      `model "${spec}" is a relative path; the host resolves paths (createEmbedder: against the page's URL, or the cwd in Node). Pass an absolute URL.`,
    );
  const repo = s.kind === 'hub' ? s.repo : undefined;
  const base = repo ? hubFileUrl(hubUrl, repo, '') : folderUrl(spec, undefined);
  const url = (path: string) => {
    // Paths come from the served hpd.json / modules.json: they must stay inside `base` (no file: reads or other hosts).
    const href = unsafePathReason(path)
      ? undefined
      : repo
        ? new URL(hubFileUrl(hubUrl, repo, path)).href
        : resolveInside(base, path);
    if (!href?.startsWith(new URL(base).href))
      throw new HpdError(
        'MODEL_INVALID',
        `${base}: the path ${JSON.stringify(path)} leaves the model folder; only relative paths inside it are allowed.`,
      );
    return href;
  };
  return { spec, base, repo, hubUrl, url };
}
