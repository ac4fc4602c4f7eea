// Errors cross comlink under a transfer handler of our own name: comlink's 'throw' handler stays untouched, so any
// other comlink user on the page keeps comlink's default behaviour.
import { transferHandlers, type TransferHandler } from 'comlink';
import { fromWire, toWire, type WireError } from './errors.js';

export const ERROR_HANDLER = 'hpd-embed:error';

/** What a guarded worker method returns instead of throwing: only our handler serialises it. */
class Thrown {
  constructor(readonly value: unknown) {}
}

type Wire = { error: WireError } | { value: unknown };

const handler: TransferHandler<Thrown, Wire> = {
  canHandle: (v): v is Thrown => v instanceof Thrown,
  serialize: (t) => [t.value instanceof Error ? { error: toWire(t.value) } : { value: t.value }, []],
  deserialize(w) {
    throw 'error' in w ? fromWire(w.error) : w.value;
  },
};

/** Registers the handler; both sides call it (idempotent). */
export function installErrorHandler(): void {
  if (transferHandlers.get(ERROR_HANDLER) !== handler)
    transferHandlers.set(ERROR_HANDLER, handler as TransferHandler<unknown, unknown>);
}

const box = (e: unknown) => new Thrown(e);

/**
 * The worker side: a view of `target` whose methods return a Thrown box instead of throwing (sync or async), so
 * their errors go through our handler. Everything else (fields, comlink's proxy marker) reads through unchanged.
 */
export function guardErrors<T extends object>(target: T): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key) as unknown;
      if (typeof v !== 'function' || typeof key === 'symbol') return v;
      let w = wrapped.get(key);
      if (!w) {
        w = (...args: unknown[]) => {
          try {
            const r = (v as (...a: unknown[]) => unknown).apply(t, args);
            return r instanceof Promise ? r.catch(box) : r;
          } catch (e) {
            return box(e);
          }
        };
        wrapped.set(key, w);
      }
      return w;
    },
  });
}
