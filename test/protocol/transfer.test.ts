// Our error handler has its own name: a page's other comlink user (its own worker, its own thrown errors) gets
// comlink's default behaviour before and after hpd-embed installs it, and comlink's 'throw' handler is untouched.
import { transferHandlers, wrap } from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { HpdError } from '../../src/errors.js';
import { ERROR_HANDLER, guardErrors, installErrorHandler } from '../../src/protocol/transfer.js';
import { exposeOn } from './channel.js';

const channels: MessageChannel[] = [];
afterAll(() => channels.forEach((c) => (c.port1.close(), c.port2.close())));

/** Another library's worker API: it throws its own errors (one of them even an HpdError), not guarded by us. */
const theirs = {
  range: (): void => {
    throw Object.assign(new RangeError('out of range'), { extra: 1 });
  },
  hpd: async (): Promise<void> => {
    throw new HpdError('NOT_FOUND', 'their own use of our class');
  },
  text: (): void => {
    throw 'a thrown string';
  },
  ok: (x: number) => x * 2,
};

/** What the page sees from each call, as plain data. */
async function observe(): Promise<unknown[]> {
  const ch = new MessageChannel();
  channels.push(ch);
  exposeOn(theirs, ch.port1);
  const r = wrap<typeof theirs>(exposeOn.endpoint(ch.port2));
  const seen = (e: unknown) =>
    e instanceof Error
      ? {
          ctor: e.constructor.name,
          name: e.name,
          message: e.message,
          code: (e as { code?: unknown }).code,
          own: Object.keys(e).sort(),
        }
      : { value: e };
  return [await r.range().catch(seen), await r.hpd().catch(seen), await r.text().catch(seen), await r.ok(21)];
}

describe('our comlink error handler leaves other comlink users alone', () => {
  it("another comlink user sees the same errors before and after installErrorHandler(), and comlink's throw handler is the same object", async () => {
    const throwHandler = transferHandlers.get('throw');
    const before = await observe();
    // comlink's default: an Error carries name/message/stack only (no code, no extra fields); a string stays a string.
    expect(before[0]).toMatchObject({ ctor: 'Error', name: 'RangeError', message: 'out of range', code: undefined });
    expect(before[1]).toMatchObject({ ctor: 'Error', name: 'HpdError', code: undefined });
    expect(before[2]).toEqual({ value: 'a thrown string' });
    expect(before[3]).toBe(42);

    installErrorHandler();
    installErrorHandler(); // idempotent
    expect(transferHandlers.get('throw')).toBe(throwHandler);
    expect(transferHandlers.get(ERROR_HANDLER)).toBeDefined();
    expect(await observe()).toEqual(before);
  });

  it('our own guarded API, on the same page, gets its typed errors', async () => {
    installErrorHandler();
    const ch = new MessageChannel();
    channels.push(ch);
    exposeOn(guardErrors(theirs), ch.port1);
    const r = wrap<typeof theirs>(exposeOn.endpoint(ch.port2));
    const e = await r.hpd().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HpdError);
    expect(e).toMatchObject({ code: 'NOT_FOUND' });
    const range = await r.range().catch((x: unknown) => x);
    expect(range).toBeInstanceOf(RangeError);
    expect(await r.ok(2)).toBe(4);
  });
});
