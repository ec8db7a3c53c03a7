/**
 * @internal A progress bar on stderr while long work runs; silent when stderr is not a terminal
 * (CI logs, pipes) or when the output is JSON.
 */
import cliProgress from 'cli-progress';

/** @internal */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** @internal */
export function createProgress(label: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
