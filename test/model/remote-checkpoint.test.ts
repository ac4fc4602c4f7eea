import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openRemoteCheckpoint } from '../../src/model/remote-checkpoint.js';

const fetchFn = (url: string, init?: { signal?: AbortSignal }) => fetch(url, init);

describe('openRemoteCheckpoint with a signal', () => {
  it('an abort mid-download closes the connection and rejects with ABORTED', async () => {
    let sent = 0;
    let closed: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    const controller = new AbortController();
    const chunk = new Uint8Array(64 * 1024);
    // A checkpoint whose config.json arrives, then a weight file that streams one chunk and waits.
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path.endsWith('/config.json')) return res.writeHead(200).end('{}');
      if (!path.endsWith('/model.safetensors')) return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Length': String(chunk.byteLength * 100) });
      res.write(chunk, () => {
        sent += chunk.byteLength;
        controller.abort();
      });
      res.on('close', () => closed());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ckpt/`;
    try {
      const source = await openRemoteCheckpoint({
        url: (p) => base + p,
        label: 'ckpt',
        fetch: fetchFn,
        signal: controller.signal,
      });
      await expect(source.read('model.safetensors')).rejects.toMatchObject({
        code: 'ABORTED',
        message: expect.stringMatching(/cancelled/),
      });
      await connectionClosed; // the server saw the download stop
      expect(sent).toBe(chunk.byteLength);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
