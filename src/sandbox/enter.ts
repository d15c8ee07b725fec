import type { Confinement } from './confine.js';
import type { UserSpec } from './options.js';

/**
 * ctnet-enter (`ctnet exec`): joins a running container's cgroups, then every namespace of its
 * PID 1 and its root, (and working directory), and confines itself as the container's first process was (user, bounding
 * set, capabilities, no-new-privileges, the same seccomp filter) before it becomes the command.
 * Perl, as ctnet-fork: a single-threaded process may enter a mount namespace (Node cannot), and
 * nothing of it needs to exist inside the container's root. It forks once so the command is in
 * the container's PID namespace, waits, and exits as the command did.
 */
const ENTER_SCRIPT = `use strict;
my ($setns, $fchdir, $chroot, $setgroups, $setgid, $setuid, $capget, $capset, $prctl, $seccomp) = map { 0 + $_ } splice(@ARGV, 0, 10);
my ($pid, $uid, $gid, $cap0, $cap1, $nnp, $filter_file, $ncg) = splice(@ARGV, 0, 8);
my @procs = splice(@ARGV, 0, $ncg);
sub fail { print STDERR "ctnet: error: exec: $_[0]\\n"; exit 126; }
for my $p (@procs) { open(my $f, '>>', $p) or fail("$p: $!"); print $f "$$\\n"; close($f) or fail("$p: $!"); }
my $filter = '';
if ($filter_file ne '') { open(my $f, '<:raw', $filter_file) or fail("$filter_file: $!"); local $/; $filter = <$f>; close($f); }
open(my $lc, '<', '/proc/sys/kernel/cap_last_cap') or fail("cap_last_cap: $!"); my $last_cap = 0 + <$lc>; close($lc);
my @ns = map { open(my $fh, '<', "/proc/$pid/ns/$_") or fail("/proc/$pid/ns/$_: $!"); $fh } qw(cgroup ipc uts net pid mnt);
open(my $root, '<', "/proc/$pid/root") or fail("/proc/$pid/root: $!");
open(my $wd, '<', "/proc/$pid/cwd") or fail("/proc/$pid/cwd: $!");
for my $fh (@ns) { syscall($setns, fileno($fh), 0) == 0 or fail("setns: $!"); }
syscall($fchdir, fileno($root)) == 0 or fail("fchdir: $!");
my $dot = '.';
syscall($chroot, $dot) == 0 or fail("chroot: $!");
syscall($fchdir, fileno($wd)) == 0 or chdir('/');
close($_) for (@ns, $root, $wd);
my $child = fork() // fail("fork: $!");
if ($child) {
  $SIG{INT} = $SIG{QUIT} = 'IGNORE';
  $SIG{TERM} = $SIG{HUP} = sub { kill($_[0], $child); };
  while (waitpid($child, 0) != $child) {}
  exit(($? & 127) ? 128 + ($? & 127) : $? >> 8);
}
my $load = sub {
  my $prog = pack('S x6 P', length($filter) / 8, $filter);
  syscall($seccomp, 1, 0, $prog) == 0 or fail("loading the seccomp filter: $!");
};
$load->() if ($filter ne '' && !$nnp);
if ($cap0 ne '-') {
  my @keep = (0 + $cap0, 0 + $cap1);
  for my $c (0 .. $last_cap) { next if ($keep[$c >> 5] >> ($c & 31)) & 1; syscall($prctl, 24, $c, 0, 0, 0) == 0 or fail("dropping capability $c: $!"); }
}
if ($uid ne '-') {
  syscall($setgroups, 1, pack('L', 0 + $gid)) == 0 or fail("setgroups: $!");
  syscall($setgid, 0 + $gid) == 0 or fail("setgid: $!");
  syscall($setuid, 0 + $uid) == 0 or fail("setuid: $!");
}
if ($cap0 ne '-' && ($uid eq '-' || $uid == 0)) {
  my $hdr = pack('LL', 0x20080522, 0);
  my $data = "\\0" x 24;
  syscall($capget, $hdr, $data) == 0 or fail("capget: $!");
  my @d = unpack('L6', $data);
  my ($w0, $w1) = ((0 + $cap0) & $d[1], (0 + $cap1) & $d[4]);
  syscall($capset, $hdr, pack('L6', $w0, $w0, 0, $w1, $w1, 0)) == 0 or fail("capset: $!");
}
syscall($prctl, 47, 4, 0, 0, 0);
if ($nnp) { syscall($prctl, 38, 1, 0, 0, 0) == 0 or fail("no-new-privileges: $!"); $load->() if $filter ne ''; }
exec { $ARGV[0] } @ARGV;
my ($err, $code) = ("$!", $!{ENOENT} ? 127 : 126);
print STDERR "ctnet: error: exec: cannot run $ARGV[0]: $err\\n";
exit($code);`;

/** setns, fchdir, chroot, setgroups, setgid, setuid, capget, capset, prctl, seccomp. */
const SYSCALLS: Record<string, number[]> = {
  x64: [308, 81, 161, 116, 106, 105, 125, 126, 157, 317],
  arm64: [268, 50, 51, 159, 144, 146, 90, 91, 167, 277],
};

export interface EnterRequest {
  pid1: number;
  user: UserSpec | null;
  confinement: Confinement;
  cgroupProcs: string[];
  command: readonly string[];
}

export function enterCommand(req: EnterRequest): string[] {
  const nr = SYSCALLS[process.arch];
  if (!nr) throw new Error(`ctnet does not know the syscall numbers of ${process.arch}`);
  const caps = req.confinement.capabilities;
  return ['perl', '-e', ENTER_SCRIPT, ...nr.map(String),
    String(req.pid1), req.user ? String(req.user.uid) : '-', req.user ? String(req.user.gid) : '-',
    caps ? String(caps[0]) : '-', caps ? String(caps[1]) : '-', req.confinement.noNewPrivileges ? '1' : '0',
    req.confinement.seccompFile ?? '', String(req.cgroupProcs.length), ...req.cgroupProcs, ...req.command];
}
