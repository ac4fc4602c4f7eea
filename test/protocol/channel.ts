// A comlink endpoint over a node:worker_threads MessagePort (comlink's own Node adapter), for in-process round trips.
import { expose, type Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MessagePort } from 'node:worker_threads';

const endpoint = (port: MessagePort): Endpoint => nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]);

/** Serves `target` on `port`. */
export function exposeOn(target: object, port: MessagePort): void {
  expose(target, endpoint(port));
}
exposeOn.endpoint = endpoint;
