/**
 * Runs async jobs one at a time per key, in arrival order; jobs of different keys (databases) run
 * side by side. A job's failure is its caller's alone: the next job of its key starts either way. A key's
 * chain is forgotten once its last job settles, so the map holds only keys with work in flight.
 */
export class WriteQueue {
  private readonly chains = new Map<string, { tail: Promise<unknown>; waiting: number }>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    let chain = this.chains.get(key);
    if (!chain) {
      chain = { tail: Promise.resolve(), waiting: 0 };
      this.chains.set(key, chain);
    }
    const own = chain;
    own.waiting++;
    const result = own.tail.then(job, job);
    own.tail = result
      .catch(() => undefined)
      .finally(() => {
        if (--own.waiting === 0) this.chains.delete(key);
      });
    return result;
  }

  /** Keys with jobs queued or running (for tests). */
  get size(): number {
    return this.chains.size;
  }
}
