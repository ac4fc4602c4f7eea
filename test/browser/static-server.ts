// Minimal static file server for browser tests: 127.0.0.1, random port, cross-origin isolated
// (COOP/COEP so SharedArrayBuffer and threaded wasm work), correct MIME types for wasm and modules.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface StaticServer {
  /** Base URL ending in '/', e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

/** Serves `root` (index.html for folders); 404 outside it. `extraHeaders` go on every response (e.g. a CSP). */
export async function serveStatic(root: string, extraHeaders: Record<string, string> = {}): Promise<StaticServer> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
      ...extraHeaders,
    };
    const send = (status: number, body: string): void => {
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      send(400, 'bad url');
      return;
    }
    let file = resolve(join(base, pathname));
    if (file !== base && !file.startsWith(base + sep)) {
      send(403, 'outside root');
      return;
    }
    void (async () => {
      try {
        let st = await stat(file);
        if (st.isDirectory()) {
          file = join(file, 'index.html');
          st = await stat(file);
        }
        // Vite's content-hashed assets may be cached, so Chromium keeps the compiled 27 MB ORT wasm between workers.
        const caching = pathname.includes('/assets/') ? { 'Cache-Control': 'public, max-age=31536000, immutable' } : {};
        res.writeHead(200, {
          ...headers,
          ...caching,
          'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'Content-Length': String(st.size),
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).pipe(res);
      } catch {
        send(404, `not found: ${pathname}`);
      }
    })();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
