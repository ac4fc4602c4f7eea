// The ORT log tap: console is wrapped only while ORT's runtime starts (emscripten binds console.log then), and
// captures later subscribe to the tap ORT kept, so nothing else logged meanwhile is swallowed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOrtLog, ortLogTapped, whileOrtStarts } from '../../src/engine/ort-log.js';

const ORT_VERBOSE =
  '2026-01-01 00:00:00.000000 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp]  All nodes placed on [CPUExecutionProvider]. Number of nodes: 3';
const ORT_WARNING = '2026-01-01 00:00:00.000000 [W:onnxruntime:, graph.cc:1 Foo] an ORT warning';

describe('ORT log tap', () => {
  afterEach(() => vi.restoreAllMocks());

  it('ORT binds the tap at start; console is restored; captures get ORT lines and nothing else', async () => {
    const seen: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void seen.push(a));
    const before = console.log;
    let ortOut: (line: string) => void = () => {};
    // What emscripten does when ORT's wasm starts: keep console.log for good.
    await whileOrtStarts(async () => {
      ortOut = console.log.bind(console);
      console.log('logged by other code while ORT starts');
    });
    expect(console.log).toBe(before);
    expect(ortLogTapped()).toBe(true);
    expect(seen).toEqual([['logged by other code while ORT starts']]);

    const lines: string[] = [];
    const stop = captureOrtLog((l) => lines.push(l));
    ortOut(ORT_VERBOSE);
    console.log('other code during a capture', 42);
    ortOut('emscripten text that is not an ORT log line');
    stop();
    expect(lines).toEqual([ORT_VERBOSE]);
    expect(seen.slice(1)).toEqual([
      ['other code during a capture', 42],
      ['emscripten text that is not an ORT log line'],
    ]);

    // Not capturing: ORT's verbose lines (asked for by capture sessions only) are dropped, its warnings are not.
    ortOut(ORT_VERBOSE);
    ortOut(ORT_WARNING);
    expect(seen.slice(3)).toEqual([[ORT_WARNING]]);
    expect(spy).toHaveBeenCalledTimes(4);
  });

  it('a console re-wrapped by someone else while ORT starts is left as they set it', async () => {
    const mine = (): void => {};
    const saved = console.warn;
    try {
      await whileOrtStarts(async () => {
        console.warn = mine;
      });
      expect(console.warn).toBe(mine);
    } finally {
      console.warn = saved;
    }
  });
});
