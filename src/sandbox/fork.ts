/**
 * ctnet-fork: makes a new PID namespace and starts its first process (PID 1 inside), then waits and
 * exits as that process did, the way a shell reports it (128 + signal). TERM, INT, HUP and QUIT
 * do not end it: they are meant for PID 1, which ctnet signals directly. If it is killed, the
 * kernel kills PID 1 too (PR_SET_PDEATHSIG). A few lines of Perl (Debian's perl-base is always
 * installed) because util-linux `unshare --fork` exits 1 instead of 137 when PID 1 is SIGKILLed
 * (its signal(SIGKILL, SIG_DFL) fails), which would hide every OOM kill and every `stop` by SIGKILL.
 * PID 1 starts with default signal dispositions, also when the supervisor's shell started ctnet-fork
 * in the background (which ignores SIGINT and SIGQUIT). It closes its copy of ctnet's readiness
 * pipe (fd 3), so the pipe ends when PID 1 becomes the command.
 */
const FORK_SCRIPT = `my ($unshare, $prctl, $close) = splice(@ARGV, 0, 3);
syscall($unshare, 0x20000000) == 0 or die "ctnet-fork: unshare(CLONE_NEWPID): $!\\n";
my $pid = fork() // die "ctnet-fork: fork: $!\\n";
if (!$pid) { syscall($prctl, 1, 9); $SIG{$_} = 'DEFAULT' for qw(INT QUIT TERM HUP); exec { $ARGV[0] } @ARGV or die "ctnet-fork: $ARGV[0]: $!\\n"; }
syscall($close, 3);
$SIG{$_} = sub {} for qw(INT TERM HUP QUIT);
while (waitpid($pid, 0) != $pid) {}
exit(($? & 127) ? 128 + ($? & 127) : $? >> 8);`;

/** unshare(2), prctl(2) and close(2) syscall numbers. */
const SYSCALLS: Record<string, [number, number, number]> = { x64: [272, 157, 3], arm64: [97, 167, 57] };

export function forkCommand(command: readonly string[]): string[] {
  const nr = SYSCALLS[process.arch];
  if (!nr) throw new Error(`ctnet does not know the syscall numbers of ${process.arch}`);
  return ['perl', '-e', FORK_SCRIPT, ...nr.map(String), ...command];
}
