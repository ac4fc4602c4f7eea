// Issue 8: a server's content-length or body size never sizes a buffer unchecked.
import { describe, expect, it } from 'vitest';
import { fetchBytes } from '../../src/model/fetch.js';
import { HpdError } from '../../src/errors.js';

/** A fetch that answers with `body`, streamed in 1 KiB chunks, and the given headers. */
const serve = (body: Uint8Array, headers: Record<string, string>) => async () => {
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= body.byteLength) return c.close();
      c.enqueue(body.slice(at, (at += 1024)));
    },
  });
  return new Response(stream, { status: 200, headers });
};

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof HpdError ? e.code : `untyped ${String(e)}`;
  }
}

describe('fetchBytes sizes (issue 8)', () => {
  it('refuses an absurd, negative or non-numeric content-length with MODEL_FETCH_FAILED, not a RangeError', async () => {
    for (const length of ['1e15', '1000000000000000', '-5', 'abc', '1.5']) {
      expect(
        await codeOf(fetchBytes(serve(new Uint8Array(10), { 'content-length': length }), 'http://h/model.onnx')),
        length,
      ).toBe('MODEL_FETCH_FAILED');
    }
  });

  it('refuses a body longer than announced, or than the manifest expects, before buffering it all', async () => {
    const body = new Uint8Array(64 * 1024);
    expect(await codeOf(fetchBytes(serve(body, { 'content-length': '2048' }), 'http://h/a'))).toBe(
      'MODEL_FETCH_FAILED',
    );
    expect(await codeOf(fetchBytes(serve(body, {}), 'http://h/a', { maxBytes: 4096 }))).toBe('MODEL_FETCH_FAILED');
    expect(
      await codeOf(
        fetchBytes(serve(body, { 'content-length': String(body.byteLength) }), 'http://h/a', { maxBytes: 4096 }),
      ),
    ).toBe('MODEL_FETCH_FAILED');
    const ok = await fetchBytes(serve(body, { 'content-length': String(body.byteLength) }), 'http://h/a', {
      maxBytes: body.byteLength,
    });
    expect(ok!.bytes.byteLength).toBe(body.byteLength);
    const unannounced = await fetchBytes(serve(body, {}), 'http://h/a');
    expect(unannounced!.bytes.byteLength).toBe(body.byteLength);
  });
});
