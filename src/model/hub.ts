import { InvalidInputError } from '../errors.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubRepo {
  repo: string;
  revision: string;
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** `'owner/name'` or `'owner/name@revision'` → repo + revision (default `main`); undefined if not a repo id. */
export function parseRepoId(model: string): HubRepo | undefined {
  if (model.includes('://') || model.startsWith('.') || model.startsWith('/')) return undefined;
  const at = model.indexOf('@');
  const repo = at < 0 ? model : model.slice(0, at);
  const revision = at < 0 ? 'main' : model.slice(at + 1);
  if (!REPO_ID.test(repo) || repo.includes('..')) return undefined;
  if (!revision || /[\s?#]/.test(revision) || revision.includes('..')) {
    throw new InvalidInputError(`"${model}": the revision after @ must be a branch, tag or commit.`);
  }
  return { repo, revision };
}

/** `https://huggingface.co/<repo>/resolve/<revision>/<path>`, on a configurable host. */
export function hubFileUrl(hubUrl: string, r: HubRepo, path: string): string {
  const base = hubUrl.replace(/\/+$/, '');
  return `${base}/${r.repo}/resolve/${encodeURIComponent(r.revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}
