/**
 * One operation at a time, in call order: the queue that every writer of a file shares (the chat
 * journal, each JSON file, a session's checkpoint.json) and the task loop's iterations. Without it,
 * concurrent writes land in whatever order their I/O finishes, and an older value can replace the
 * last one.
 */

/**
 * Runs the operations given to it one after another, in call order; each starts when the one
 * before has settled, whether it resolved or rejected (a failure is its caller's, and does not
 * stop the queue).
 */
export type OneAtATime = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Creates a {@link OneAtATime} queue.
 *
 * @returns a function that queues an operation and resolves or rejects as that operation does.
 * @example
 * ```ts
 * const queue = createOneAtATime();
 * await Promise.all([queue(() => write('a')), queue(() => write('b'))]); // 'b' is written after 'a'
 * ```
 */
export function createOneAtATime(): OneAtATime {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(operation: () => Promise<T>): Promise<T> => {
    const run = tail.then(operation, operation);
    tail = run.catch(() => undefined);
    return run;
  };
}
