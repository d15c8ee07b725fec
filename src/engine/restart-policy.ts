/**
 * --restart as a container's record keeps it (restartMax): how many restarts on failure (0: none),
 * or one of these two, restarted whatever the exit until stopped. Without a daemon both are
 * Podman's: nothing starts a container again after the host reboots.
 */
export const RESTART_ALWAYS = -1;
export const RESTART_UNLESS_STOPPED = -2;
/** on-failure without a count. */
export const RESTART_ON_FAILURE_UNBOUNDED = 1_000_000;

/** A record's restartMax as Docker shows the policy. */
export function restartPolicy(restartMax: number): { Name: string; MaximumRetryCount: number } {
  if (restartMax === RESTART_ALWAYS) return { Name: 'always', MaximumRetryCount: 0 };
  if (restartMax === RESTART_UNLESS_STOPPED) return { Name: 'unless-stopped', MaximumRetryCount: 0 };
  if (restartMax === 0) return { Name: 'no', MaximumRetryCount: 0 };
  return { Name: 'on-failure', MaximumRetryCount: restartMax === RESTART_ON_FAILURE_UNBOUNDED ? 0 : restartMax };
}
