// The one crash latch both worker hosts (browser, Node) use.
import { describe, expect, it } from 'vitest';
import { crashLatch } from '../../src/api/host.js';

describe('crashLatch', () => {
  it('reports the first crash once, also to a listener added after it', () => {
    const l = crashLatch();
    const heard: string[] = [];
    l.fire('first');
    l.fire('second');
    l.onCrash((why) => heard.push(why));
    l.fire('third');
    expect(heard).toEqual(['first']);
  });

  it('a listener added first hears the crash when it happens', () => {
    const l = crashLatch();
    const heard: string[] = [];
    l.onCrash((why) => heard.push(why));
    expect(heard).toEqual([]);
    l.fire('exit 1');
    expect(heard).toEqual(['exit 1']);
  });

  it('ignores anything after stop() (our own terminate is no crash)', () => {
    const l = crashLatch();
    const heard: string[] = [];
    l.onCrash((why) => heard.push(why));
    l.stop();
    l.fire('worker thread exited with code 1');
    expect(heard).toEqual([]);
  });
});
