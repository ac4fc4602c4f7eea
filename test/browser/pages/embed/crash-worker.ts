// The real worker entry, plus test hooks: 'crash' throws an uncaught error inside the worker; 'lose-device'
// destroys ORT's WebGPU device (as a driver reset or GPU process crash would); 'hang' stops answering.
import * as ort from 'onnxruntime-web/webgpu';
import '../../../../src/worker/worker.js';

self.addEventListener('message', (e: MessageEvent) => {
  if (e.data === 'crash') throw new Error('simulated worker crash');
  // The native WebGPU EP sets env.webgpu.device to the GPUDevice itself (the typings say Promise).
  if (e.data === 'lose-device') void Promise.resolve(ort.env.webgpu.device).then((d) => d.destroy());
  if (e.data === 'hang') for (;;);
});
