import { constants as osConstants } from 'node:os';
import { closeNetns, netnsPath, openNetns, withNetns } from './netns.js';
import { EINTR, SOL_SOCKET, check, errno, errnoName, libc } from './libc.js';
import { AF_INET, SOCK_CLOEXEC, sockaddrIn } from './inet.js';

export interface ProbeOutcome {
  reachable: boolean;
  /** connected, ECONNREFUSED (reachable: something answered), timeout, or the error's name. */
  detail: string;
}

const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SO_ERROR = 4;
const POLLOUT = 4;
const { EINPROGRESS } = osConstants.errno;

/**
 * A TCP connect from inside a namespace: the socket is made there (it stays bound to that namespace's
 * stack) and connected from this thread, waiting at most `timeoutMs`. A refusal proves the path as well
 * as a connect. (A Node child started in the namespace did the same in ~130 ms, a tenth of a ms here.)
 */
export function probeFrom(netns: string, host: string, port: number, timeoutMs = 1500): ProbeOutcome {
  const ns = openNetns(netnsPath(netns));
  let fd: number;
  try {
    fd = withNetns(ns, () => check(libc().socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), `opening a probe socket in ${netns}`));
  } finally {
    closeNetns(ns);
  }
  try {
    const detail = connectWithin(fd, host, port, timeoutMs);
    return { reachable: detail === 'connected' || detail === 'ECONNREFUSED', detail };
  } finally {
    libc().close(fd);
  }
}

function connectWithin(fd: number, host: string, port: number, timeoutMs: number): string {
  const addr = sockaddrIn(host, port);
  if (libc().connect(fd, addr, addr.length) === 0) return 'connected';
  if (errno() !== EINPROGRESS) return errnoName(errno());
  const deadline = performance.now() + timeoutMs;
  const pollfd = Buffer.alloc(8); // struct pollfd: int fd, short events, short revents
  pollfd.writeInt32LE(fd, 0);
  pollfd.writeInt16LE(POLLOUT, 4);
  for (;;) {
    const left = Math.max(0, Math.ceil(deadline - performance.now()));
    const n = libc().poll(pollfd, 1, left);
    if (n > 0) break;
    if (n === 0) return 'timeout';
    if (errno() !== EINTR) return errnoName(errno());
  }
  const err = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(4);
  check(libc().getsockopt(fd, SOL_SOCKET, SO_ERROR, err, len), 'reading a probe socket\'s outcome');
  const code = err.readInt32LE(0);
  return code === 0 ? 'connected' : errnoName(code);
}
