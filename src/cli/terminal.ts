import { closeSync, createReadStream, writeSync } from 'node:fs';
import { openPty, setWindowSize } from '../kernel/pty.js';
import type { RunRequest } from '../engine/containers.js';
import { stdoutStream } from './stdio.js';

/**
 * A foreground container's standard streams, as `docker run` gives them. With -t it gets a
 * pseudo-terminal of its own, which ctnet relays (raw, window size followed) to the caller's; with
 * -i the caller's input reaches it. Without -i a terminal on standard input is not handed over, so
 * nothing inside can read the caller's keystrokes (pipes and files still are, for scripts).
 */
export interface ForegroundStreams {
  stdio: RunRequest['stdio'];
  /** After the container started: relay. */
  attach(): void;
  /** After it ended: the last output relayed, the caller's terminal as it was. */
  detach(): Promise<void>;
}

export function foregroundStreams(tty: boolean, interactive: boolean): ForegroundStreams {
  if (!tty) {
    const stdin = interactive || !process.stdin.isTTY ? 'inherit' : 'ignore';
    return { stdio: { streams: [stdin, 'inherit', 'inherit'] }, attach() {}, async detach() {} };
  }
  const pty = openPty();
  const resize = (): void => setWindowSize(pty.master, process.stdout.columns, process.stdout.rows);
  if (process.stdout.isTTY) resize();
  const raw = interactive && process.stdin.isTTY;
  let drained: Promise<void> = Promise.resolve();
  const input = (data: Buffer): void => {
    try {
      writeSync(pty.master, data);
    } catch {
      // the container is gone
    }
  };
  return {
    stdio: { streams: [pty.slave, pty.slave, pty.slave], terminal: true },
    attach() {
      closeSync(pty.slave);
      const output = createReadStream('', { fd: pty.master, autoClose: false });
      // The master reads EIO once every holder of the slave has closed it: that is the end.
      drained = new Promise((resolve) => {
        output.on('error', () => resolve());
        output.on('end', () => resolve());
      });
      output.pipe(stdoutStream(), { end: false });
      if (process.stdout.isTTY) process.stdout.on('resize', resize);
      if (interactive) {
        if (raw) process.stdin.setRawMode(true);
        process.stdin.on('data', input);
        process.stdin.resume();
      }
    },
    async detach() {
      await drained;
      process.stdout.off('resize', resize);
      if (interactive) {
        process.stdin.off('data', input);
        process.stdin.pause();
        if (raw) process.stdin.setRawMode(false);
      }
      closeSync(pty.master);
    },
  };
}
