/**
 * The environment the bench starts Node processes in (ctnet's CLI, the bare `node -e 0` beside it):
 * the bench's own, without NODE_EXTRA_CA_CERTS. Node reads and parses that file when it starts,
 * before any script: on this machine the variable names the whole system CA bundle, and `node -e 0`
 * took 64.5 ms with it against 25.9 ms without (p50 of 25). A fresh Debian machine does not set it,
 * and the same constant in both figures made ctnet's start look closer to Node's own than it is.
 */
export function nodeEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}
