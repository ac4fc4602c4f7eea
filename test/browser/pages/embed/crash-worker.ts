// The real worker entry, plus a test hook: posting 'crash' throws an uncaught error inside the worker.
import '../../../../src/worker/worker.js';

self.addEventListener('message', (e: MessageEvent) => {
  if (e.data === 'crash') throw new Error('simulated worker crash');
});
