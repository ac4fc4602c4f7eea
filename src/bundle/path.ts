// Paths named inside a manifest or checkpoint come from whoever served it: they may only point inside the folder they came from.

/** Why `path` is not a plain relative path inside its folder, or `undefined` when it is one. */
export function unsafePathReason(path: unknown, allowEmpty = false): string | undefined {
  if (typeof path !== 'string') return 'it is not a string';
  if (path === '') return allowEmpty ? undefined : 'it is empty';
  if (path.length > 1024) return 'it is longer than 1024 characters';
  // URL parsers drop tabs and newlines and trim controls, so ".\t./x" would become "../x".
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it contains control characters';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(path)) return 'it has a scheme (only relative paths are allowed)';
  if (path.startsWith('/') || path.startsWith('\\')) return 'it is absolute (only relative paths are allowed)';
  // Backslashes are separators to URL parsers and Windows; ? and # would change what the URL names.
  if (/[\\?#]/.test(path)) return 'it contains \\, ? or #';
  for (const seg of path.split('/')) {
    let decoded = seg;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      return 'it has a malformed %-escape';
    }
    if (decoded === '..' || decoded === '.' || /^\.?%2e$|^%2e\.?$/i.test(seg)) return 'it has a "." or ".." segment';
    if (decoded.includes('/') || decoded.includes('\\')) return 'it has an escaped separator';
  }
  return undefined;
}

/** Resolves `path` against the folder URL `base`; undefined when the result leaves that folder or its origin. */
export function resolveInside(base: string, path: string): string | undefined {
  if (unsafePathReason(path) !== undefined) return undefined;
  const folder = new URL(base);
  const url = new URL(path, folder);
  if (url.protocol !== folder.protocol || url.origin !== folder.origin || !url.href.startsWith(folder.href))
    return undefined;
  return url.href;
}
