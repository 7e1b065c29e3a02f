/**
 * Runs async jobs one at a time, in arrival order. A job's failure is its caller's alone: the
 * next job starts either way.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
