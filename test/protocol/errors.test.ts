// Every error class in src/errors.ts crosses a real comlink MessageChannel as itself: subclass, code, message,
// typed details and cause (recursively) survive; other thrown values keep their kind.
import { wrap, type Remote } from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { HpdError } from '../../src/errors.js';
import { ERROR_REVIVERS } from '../../src/protocol/errors.js';
import { guardErrors, installErrorHandler } from '../../src/protocol/transfer.js';
import { exposeOn } from './channel.js';

/** One instance of each class, with the facts a caller can read from it. */
const SAMPLES: Record<keyof typeof ERROR_REVIVERS, () => { error: HpdError; props: Record<string, unknown> }> = {
  HpdError: () => ({
    error: new HpdError('INDEX_OPTIONS_CONFLICT', 'open as int8', {
      details: { name: 'n', storage: 'int8', requested: 'f32' },
    }),
    props: { details: { name: 'n', storage: 'int8', requested: 'f32' } },
  }),
  ConvertError: () => ({ error: new errors.ConvertError('CHECKPOINT_MISSING_FILE', 'no config.json'), props: {} }),
  InvalidInputError: () => ({ error: new errors.InvalidInputError('k must be ≥ 1'), props: {} }),
  DimMismatchError: () => ({
    error: new errors.DimMismatchError(128, 64, 'vectors'),
    props: { expected: 128, actual: 64, details: { expected: 128, actual: 64 } },
  }),
  DuplicateIdError: () => ({
    error: new errors.DuplicateIdError('doc-7', 'id "doc-7" is already in the index'),
    props: { id: 'doc-7', details: { id: 'doc-7' } },
  }),
  CorruptIndexError: () => ({ error: new errors.CorruptIndexError('bad crc'), props: {} }),
  UnsupportedIndexVersionError: () => ({
    error: new errors.UnsupportedIndexVersionError(9, 2),
    props: { version: 9, supported: 2, details: { version: 9, supported: 2 } },
  }),
  PersistError: () => ({ error: new errors.PersistError('disk full', { cause: new TypeError('ENOSPC') }), props: {} }),
  ModelMismatchError: () => {
    const expected = { name: 'a', dim: 128, dtype: 'fp32', sha256: 'a'.repeat(64) };
    const actual = { name: 'b', dim: 64, dtype: 'int8', sha256: 'b'.repeat(64) };
    return { error: new errors.ModelMismatchError(expected, actual), props: { expected, actual } };
  },
};

const channels: MessageChannel[] = [];
afterAll(() => channels.forEach((c) => (c.port1.close(), c.port2.close())));

function connect<T extends object>(target: T): Remote<T> {
  const ch = new MessageChannel();
  channels.push(ch);
  exposeOn(guardErrors(target), ch.port1);
  return wrap<T>(exposeOn.endpoint(ch.port2));
}

async function crossed(thrown: unknown): Promise<unknown> {
  const remote = connect({
    fail: (): Promise<void> => Promise.reject(thrown),
    failSync: (): void => {
      throw thrown;
    },
  });
  const a = await remote.fail().then(
    () => 'resolved',
    (e: unknown) => e,
  );
  const b = await remote.failSync().then(
    () => 'resolved',
    (e: unknown) => e,
  );
  expect(b).toEqual(a); // sync and async throws cross alike
  return a;
}

describe('errors across the worker boundary', () => {
  installErrorHandler();

  it('the sample list covers every error class src/errors.ts exports, and the registry has a reviver for each', () => {
    const classes = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && (v === HpdError || v.prototype instanceof HpdError))
      .map(([k]) => k);
    expect(classes.sort()).toEqual(Object.keys(SAMPLES).sort());
    expect(Object.keys(ERROR_REVIVERS).sort()).toEqual(classes.sort());
  });

  for (const [name, make] of Object.entries(SAMPLES)) {
    it(`${name}: class, code, message, details and a two-level cause survive`, async () => {
      const { error, props } = make();
      const inner = new errors.DuplicateIdError('x', 'inner cause', { cause: new RangeError('root cause') });
      if (error.cause === undefined)
        Object.defineProperty(error, 'cause', { value: inner, writable: true, configurable: true });
      const got = (await crossed(error)) as HpdError & Record<string, unknown>;
      const Ctor = (errors as unknown as Record<string, new (...a: never[]) => HpdError>)[name];
      expect(got).toBeInstanceOf(Ctor);
      expect(got).toBeInstanceOf(HpdError);
      expect(got.constructor).toBe(Ctor);
      expect(got).toMatchObject({ name, code: error.code, message: error.message, ...props });
      expect(got.stack).toBe(error.stack);
      const cause = got.cause as Error & { code?: string; cause?: unknown };
      if (name === 'PersistError') {
        expect(cause).toBeInstanceOf(TypeError);
        expect(cause.message).toBe('ENOSPC');
      } else {
        expect(cause).toBeInstanceOf(errors.DuplicateIdError);
        expect(cause).toMatchObject({ code: 'DUPLICATE_ID', id: 'x', message: 'inner cause' });
        expect(cause.cause).toBeInstanceOf(RangeError);
        expect((cause.cause as Error).message).toBe('root cause');
      }
    });
  }

  it('an unknown HpdError subclass arrives as an HpdError with its name and code; built-in errors keep their class', async () => {
    class UsageLike extends HpdError {}
    const a = (await crossed(new UsageLike('INVALID_INPUT', 'bad flag'))) as HpdError;
    expect(a).toBeInstanceOf(HpdError);
    expect(a).toMatchObject({ name: 'UsageLike', code: 'INVALID_INPUT', message: 'bad flag' });
    const b = (await crossed(new TypeError('not a function'))) as Error;
    expect(b).toBeInstanceOf(TypeError);
    expect(b).not.toHaveProperty('code');
    expect(b.message).toBe('not a function');
  });

  it('non-Error causes and thrown values cross as values (a non-cloneable one as its string)', async () => {
    const a = (await crossed(
      new HpdError('ABORTED', 'cancelled', { cause: { reason: 'timeout', ms: 5 } }),
    )) as HpdError;
    expect(a.cause).toEqual({ reason: 'timeout', ms: 5 });
    const b = (await crossed(new HpdError('ABORTED', 'cancelled', { cause: { f: () => 1 } }))) as HpdError;
    expect(b.cause).toBe('[object Object]');
    expect(await crossed('a plain string')).toBe('a plain string');
    expect(await crossed({ code: 7 })).toEqual({ code: 7 });
  });

  it('a cause cycle stops after a bounded depth instead of hanging', async () => {
    const a = new HpdError('NOT_FOUND', 'a');
    const b = new HpdError('NOT_FOUND', 'b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    let got = (await crossed(a)) as { cause?: unknown };
    let depth = 0;
    while (got.cause instanceof Error) ((got = got.cause as { cause?: unknown }), depth++);
    expect(depth).toBe(8);
  });
});
