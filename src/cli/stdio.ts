import { writeSync } from 'node:fs';
import { pauseSync } from '../kernel/pause.js';

/**
 * The CLI's own output, written with write(2) to descriptors 1 and 2. Touching process.stdout or
 * process.stderr makes Node build a stream for a pipe or a terminal, which loads node:net and the
 * stream modules: ~6-10 ms of every command's start that only printed a line or a table. A write
 * here is done when it returns, so nothing is left to flush at exit, whatever reads the other end.
 */

const closed = new Set<number>();

function writeAll(fd: number, text: string | Uint8Array): void {
  if (text.length === 0 || closed.has(fd)) return;
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let at = 0; at < bytes.length;) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A descriptor someone made non-blocking (a shared terminal) and a full pipe: wait for the reader.
      if (code === 'EAGAIN') pauseSync(1);
      // The reader went away (`| head`) or there is nothing to write to: what it wanted it has.
      else if (code === 'EPIPE' || code === 'EBADF') return void closed.add(fd);
      else throw err;
    }
  }
}

export const writeOut = (text: string | Uint8Array): void => writeAll(1, text);
export const writeErr = (text: string): void => writeAll(2, text);

const streams = new Set<NodeJS.WriteStream>();

/** process.stdout as a stream, for what needs one (a terminal session piped through): flushed before the exit. */
export function stdoutStream(): NodeJS.WriteStream {
  streams.add(process.stdout);
  return process.stdout;
}

export function stderrStream(): NodeJS.WriteStream {
  streams.add(process.stderr);
  return process.stderr;
}

/** Resolves once what went through the streams handed out above has reached their readers. */
export function flushStreams(): Promise<void> {
  return Promise.all([...streams].map((stream) => new Promise<void>((resolve) => {
    // A reader that went away (| head) has what it wanted.
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  }))).then(() => {});
}
