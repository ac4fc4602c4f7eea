import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve, sep } from 'node:path';

export interface HubServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash), to pass as hubUrl. */
  url: string;
  /** Paths requested so far (e.g. "/owner/name/resolve/main/config.json"). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A local stand-in for huggingface.co: `/<owner>/<name>/resolve/<revision>/<path>` served from folders,
 * with CORS + CORP headers (a cross-origin page with COEP can fetch it), 404 for missing files, and
 * `x-linked-etag: "<sha256>"` on weight files the way the Hub marks LFS files.
 */
export async function startHubServer(repos: Record<string, Record<string, string>>): Promise<HubServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': 'x-linked-etag, x-repo-commit, content-length',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cache-Control': 'no-store',
    };
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const dir = m ? repos[m[1]]?.[m[2]] : undefined;
    const notFound = () => {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain', 'X-Error-Code': 'EntryNotFound' });
      res.end('Entry not found');
    };
    if (!m || !dir) return notFound();
    const root = resolve(dir);
    const file = resolve(join(root, m[3]));
    if (!file.startsWith(root + sep)) return notFound();
    void (async () => {
      try {
        if (!(await stat(file)).isFile()) return notFound();
        const bytes = await readFile(file);
        const lfs = /\.(bin|safetensors|onnx)$/.test(file);
        res.writeHead(200, {
          ...headers,
          'Content-Type': 'application/octet-stream',
          'Content-Length': String(bytes.byteLength),
          'X-Repo-Commit': m[2],
          ...(lfs ? { 'X-Linked-Etag': `"${createHash('sha256').update(bytes).digest('hex')}"` } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : bytes);
      } catch {
        notFound();
      }
    })();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
