// "Not found" in the terms of what was passed: a missing folder, a SPA fallback's page, a repo id (or one missing its
// owner), and for a Hub-shaped string, how a folder path is written instead.
import { MANIFEST_FILE } from '../bundle/manifest.js';
import { HpdError } from '../errors.js';
import { HTML_ANSWER } from './fetch.js';
import type { Remote } from './locate.js';
import { pathHint } from './spec.js';

/** A Hub-shaped string whose repo cannot be reached or found may have meant a folder: say how a path is written. */
export function withPathHint(r: Remote): (e: unknown) => never {
  return (e) => {
    if (!r.repo || !(e instanceof HpdError) || e.code !== 'MODEL_FETCH_FAILED' || e.message.includes('as a path'))
      throw e;
    throw new HpdError(e.code, `${e.message}${pathHint(r.spec)}`, { cause: e.cause ?? e });
  };
}

/** Neither hpd.json nor a checkpoint's config.json: say "not found" in the terms of what was passed. */
export function modelNotFound(r: Remote, configUrl: string, html: boolean): HpdError {
  const { spec, repo, hubUrl } = r;
  const manifestUrl = r.url(MANIFEST_FILE);
  if (html) {
    return new HpdError(
      'MODEL_FETCH_FAILED',
      `Model "${spec}" not found: ${manifestUrl} and ${configUrl} returned an HTML page, not JSON: ${HTML_ANSWER}. Point model at a folder URL that holds hpd.json.${ownerlessRepoHint(spec)}`,
    );
  }
  if (repo) {
    return new HpdError(
      'MODEL_FETCH_FAILED',
      `${repo.repo}@${repo.revision} was not found at ${hubUrl}: ${manifestUrl} and ${configUrl} gave HTTP 404. Check the repo id and revision (and hubUrl, if you use a mirror).`,
    );
  }
  if (manifestUrl.startsWith('file:')) {
    const file = decodeURIComponent(new URL(manifestUrl).pathname);
    return new HpdError(
      'MODEL_FETCH_FAILED',
      `Model "${spec}" not found: ${file} does not exist. Pass a folder holding a compiled bundle (hpd.json) or a sentence-transformers checkpoint; a relative path is resolved against the current directory.${ownerlessRepoHint(spec)}`,
    );
  }
  return new HpdError(
    'MODEL_FETCH_FAILED',
    `Model "${spec}" not found: ${manifestUrl} gave HTTP 404. Point model at a folder URL that holds hpd.json.${ownerlessRepoHint(spec)}`,
  );
}

/** "HPD-MiniLM-F128" (or a URL whose path is that one name) is probably a Hub repo id missing its owner. */
function ownerlessRepoHint(spec: string): string {
  let name = spec.replace(/\/+$/, '');
  try {
    const u = new URL(spec);
    const segments = u.pathname.split('/').filter(Boolean);
    if (u.protocol === 'file:' || segments.length !== 1) return '';
    name = decodeURIComponent(segments[0]);
  } catch {
    // not absolute: the name as given
  }
  const m = /^([A-Za-z0-9][\w.-]*)(@[\w./-]+)?$/.exec(name);
  if (!m || !/[A-Za-z]/.test(m[1]) || m[1].includes('..')) return '';
  return ` If "${name}" is a Hugging Face repo id, it needs its owner: "<owner>/${m[1]}" (for example "Xuandong/HPD-MiniLM-F128").`;
}
