// Per-key FIFO serialisation of async work (saves of one index name, writes of one file).
// Hand-written: ~15 lines, and the libraries that do this (async-mutex) add a dependency for no extra guarantee here.

/** Runs tasks with the same key one at a time, in call order; tasks with different keys run concurrently. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    // A failed task must not block the next one: chain on settlement, not on success.
    const result = prev.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
