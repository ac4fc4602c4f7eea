import type { Endpoint } from 'comlink';

/** A started worker, browser or Node, seen through a comlink endpoint (internal: the public option is `worker`). */
export interface WorkerHost {
  endpoint: Endpoint;
  /** Called at most once, when the worker dies or throws an uncaught error. */
  onCrash(cb: (why: string) => void): void;
  terminate(): void;
  /** The worker script, for error messages (undefined for a caller-supplied worker). */
  url?: string;
}

/**
 * The crash latch both hosts share: the first crash is kept (a listener added later still hears it), later ones and
 * any after terminate() are ignored.
 */
export function crashLatch(): { fire(why: string): void; onCrash(cb: (why: string) => void): void; stop(): void } {
  let cb: ((why: string) => void) | undefined;
  let crashed: string | undefined;
  let stopped = false;
  return {
    fire(why) {
      if (stopped || crashed !== undefined) return;
      crashed = why;
      cb?.(why);
    },
    onCrash(listener) {
      cb = listener;
      if (crashed !== undefined) listener(crashed);
    },
    stop() {
      stopped = true;
    },
  };
}
