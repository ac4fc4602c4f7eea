// How a model string reads, by one rule in browsers and Node, applied on the host before the spec crosses to a worker.
import type { InMemoryFile } from '../bundle/source.js';
import { InvalidInputError } from '../errors.js';
import { parseRepoId, type HubRepo } from './hub.js';

/** A bundle or checkpoint folder (path or URL), a Hub repo id (`owner/name[@revision]`), or in-memory files. */
export type ModelSpec = string | { files: Map<string, InMemoryFile> | Record<string, InMemoryFile>; name?: string };

/** A model string after the rule: a Hub repo, an absolute URL, or a path still to resolve against the host's base. */
export type ModelString =
  { kind: 'hub'; repo: HubRepo } | { kind: 'url'; url: string } | { kind: 'path'; path: string };

// Two letters at least, so a Windows drive (C:\models) is a path, not a scheme.
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]+:/;

/**
 * The rule: `./x`, `../x`, `/x` (and `C:\x`) are paths; `scheme:…` is a URL; exactly `owner/name[@revision]` is a Hub
 * repo id; anything else (one name, three segments, a trailing slash) is a path relative to the page or the cwd.
 */
export function readModelString(s: string): ModelString {
  if (/^\.{1,2}([/\\]|$)|^[/\\]|^[A-Za-z]:[/\\]/.test(s)) return { kind: 'path', path: s };
  if (SCHEME.test(s)) return { kind: 'url', url: s };
  const repo = parseRepoId(s);
  return repo ? { kind: 'hub', repo } : { kind: 'path', path: s };
}

/** The folder URL of a path or URL model string, resolved against `base` (the page's URL; a file: URL of the cwd). */
export function folderUrl(s: string, base: string | undefined): string {
  try {
    return new URL(s.endsWith('/') ? s : `${s}/`, base).href;
  } catch {
    throw new InvalidInputError(
      `model "${s}" is neither a URL, a path (./folder/, /folder/) nor a Hugging Face repo id (owner/name[@revision]).`,
    );
  }
}

/**
 * The spec as the host resolves it before handing it to a worker: a path becomes an absolute folder URL (`toUrl`:
 * the host's own way, e.g. pathToFileURL in Node); Hub ids, URLs and files pass unchanged.
 */
export function resolveModelSpec(spec: ModelSpec, toUrl: (path: string) => string): ModelSpec {
  if (typeof spec !== 'string' || spec === '') return spec; // a missing model is createEmbedder's error
  const s = readModelString(spec);
  return s.kind === 'path' ? toUrl(s.path) : spec;
}

/** Said when a Hub-shaped string is not on the Hub: how a folder path is written instead. */
export function pathHint(spec: string): string {
  return ` If "${spec}" is a folder, write it as a path: "./${spec.replace(/\/*$/, '/')}" (owner/name is always a Hugging Face repo id).`;
}
