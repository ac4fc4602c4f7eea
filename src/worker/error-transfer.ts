import { transferHandlers, type TransferHandler } from 'comlink';
import { HpdError, type HpdErrorCode } from '../errors.js';

interface Serialized {
  isError: boolean;
  value: unknown;
}

const INSTALLED = Symbol.for('hpd-embed.error-transfer');

/**
 * comlink's 'throw' handler keeps only name/message/stack; this one also carries `code` and rebuilds an
 * HpdError on the receiving side, so typed errors survive the worker boundary. Both sides must install it.
 */
export function installErrorTransfer(): void {
  const base = transferHandlers.get('throw') as (TransferHandler<{ value: unknown }, Serialized> & { [INSTALLED]?: true }) | undefined;
  if (!base || base[INSTALLED]) return;
  const handler: TransferHandler<{ value: unknown }, Serialized> & { [INSTALLED]: true } = {
    [INSTALLED]: true,
    canHandle: base.canHandle,
    serialize(thrown) {
      const [s, transferables] = base.serialize(thrown);
      if (thrown.value instanceof HpdError && s.isError) s.value = { ...(s.value as object), code: thrown.value.code };
      return [s, transferables];
    },
    deserialize(s) {
      const v = s.value as { code?: unknown; message?: string; stack?: string };
      if (s.isError && typeof v?.code === 'string') {
        const err = new HpdError(v.code as HpdErrorCode, v.message ?? ''); // serialised by our own worker from an HpdError
        if (v.stack) err.stack = v.stack;
        throw err;
      }
      return base.deserialize(s);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
