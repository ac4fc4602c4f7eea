import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../src/engine/device.js';
import type { ModelInfo } from '../../src/engine/engine.js';
import { blankLinesWarning } from '../../src/node/cli-files.js';
import { modelLine, modelSettings } from '../../src/node/cli-model.js';
import { NATIVE_INSTALL } from '../../src/node/platform.js';

const info: ModelInfo = {
  name: 'm',
  dim: 8,
  maxTokens: 16,
  dtype: 'fp32',
  sha256: '0'.repeat(64),
  device: 'wasm',
  randomWeights: false,
  origin: { kind: 'bundle', location: 'file:///m/', fromCache: false },
};
// What session.ts words under device 'auto' when onnxruntime-node is missing.
const device: DeviceInfo = {
  requested: 'auto',
  actual: 'wasm',
  threads: 2,
  reason: `no WebGPU in Node; onnxruntime-node is not installed, so the CPU path runs on wasm (the native runtime is several times faster): ${NATIVE_INSTALL}`,
};
const count = (s: string, part: string) => s.split(part).length - 1;

describe('the CLI model line', () => {
  it('leaves out the onnxruntime-node hint when the note already said it, so it prints once', () => {
    const line = modelLine(info, device, true);
    expect(count(line, NATIVE_INSTALL)).toBe(0);
    expect(line).toBe('model m (8-d, fp32) on wasm, 2 thread(s): no WebGPU in Node\n');
    expect(count(modelLine(info, device, false), NATIVE_INSTALL)).toBe(1);
  });

  it('says when the weights are random', () => {
    expect(modelLine({ ...info, randomWeights: true }, device, true)).toMatch(
      /^model m \(8-d, fp32, random weights: rankings are meaningless\) on wasm/,
    );
  });
});

describe('blank-line warning', () => {
  it('says how many and which lines, the first five', () => {
    expect(blankLinesWarning('in.txt', [3])).toMatch(/^warning: in\.txt has 1 blank line \(line 3\);/);
    expect(blankLinesWarning('in.txt', [1, 2, 4, 8, 9, 12, 20])).toMatch(
      /has 7 blank lines \(lines 1, 2, 4, 8, 9, …\);/,
    );
  });
});

describe('modelSettings', () => {
  it('defaults --hub-timeout to 15 s and accepts q8', () => {
    expect(modelSettings({ model: 'a/b', dtype: 'q8' })).toMatchObject({ hubTimeout: 15, dtype: 'q8', device: 'auto' });
  });
});
