# ctnet's container-side processes, in Perl: Debian's perl-base is always installed, a Perl
# process starts in a few milliseconds (a second Node start cost ~100 ms of every `run`), it is
# single-threaded (it may enter a mount namespace, which Node cannot), and nothing of it needs to
# exist inside the container's root.
#
#   perl ctnet-sandbox.pl init ARCH SPEC    a container's start (ctnet-init, see src/engine/sandbox.ts)
#   perl ctnet-sandbox.pl standby ARCH      a detached container's supervisor, started before its
#                                           container exists (see src/engine/shim.ts); its restarts
#                                           run `supervise ARCH ...` in its place
#   perl ctnet-sandbox.pl enter ARCH ...    `ctnet exec` (ctnet-enter, see src/sandbox/enter.ts)
#
# A container's PID 1 and ctnet-enter end by confining themselves the same way (user, bounding set,
# capabilities, no-new-privileges, seccomp) and becoming the command with execve.
#
# perl's syscall() passes a value that has been a number as an integer and anything else as a
# pointer to its bytes: numbers are made with 0 + ..., paths are never compared as numbers.
use strict;

my %NR = (
  x64 => { mount => 165, umount2 => 166, pivot_root => 155, mount_setattr => 442, openat => 257, mkdirat => 258,
    readlinkat => 267, unshare => 272, setns => 308, fchdir => 81, chroot => 161, setgroups => 116, setgid => 106,
    setuid => 105, capget => 125, capset => 126, prctl => 157, seccomp => 317, setsid => 112, ioctl => 16, close => 3,
    fcntl => 72, rt_sigprocmask => 14, sethostname => 170, setdomainname => 171, open_tree => 428, move_mount => 429, prlimit64 => 302 },
  arm64 => { mount => 40, umount2 => 39, pivot_root => 41, mount_setattr => 442, openat => 56, mkdirat => 34,
    readlinkat => 78, unshare => 97, setns => 268, fchdir => 50, chroot => 51, setgroups => 159, setgid => 144,
    setuid => 146, capget => 90, capset => 91, prctl => 167, seccomp => 277, setsid => 157, ioctl => 29, close => 57,
    fcntl => 25, rt_sigprocmask => 135, sethostname => 161, setdomainname => 162, open_tree => 428, move_mount => 429, prlimit64 => 261 },
);

my ($MODE, $ARCH) = splice(@ARGV, 0, 2);
my $nr = $NR{$ARCH // ''} or do { print STDERR "ctnet: error: ctnet does not know the syscall numbers of $ARCH\n"; exit 125 };

# Constants as constant.pm makes them (a read-only scalar in the symbol table is an inlined constant
# sub), without loading it and warnings.pm: ~4 ms of every container's start. The errno values are
# the same on both architectures; Errno.pm is loaded only to name an unexpected one.
BEGIN {
  my %c = (
    AT_FDCWD => -100, AT_RECURSIVE => 0x8000,
    OPEN_TREE_CLONE => 1, MOVE_MOUNT_F_EMPTY_PATH => 0x04, MOVE_MOUNT_T_SYMLINKS => 0x10,
    O_WRONLY => 1, O_CREAT => 0100, O_EXCL => 0200, O_NOFOLLOW => 0400000, O_CLOEXEC => 02000000, O_PATH => 010000000,
    MS_RDONLY => 1, MS_NOSUID => 2, MS_NODEV => 4, MS_NOEXEC => 8, MS_BIND => 4096, MS_REC => 16384, MS_PRIVATE => 1 << 18,
    MNT_DETACH => 2, MOUNT_ATTR_RDONLY => 1, MOUNT_ATTR_NODEV => 4,
    CLONE_NEWNS => 0x20000, CLONE_NEWCGROUP => 0x2000000, CLONE_NEWUTS => 0x4000000, CLONE_NEWIPC => 0x8000000,
    CLONE_NEWPID => 0x20000000, CLONE_NEWNET => 0x40000000,
    PR_SET_PDEATHSIG => 1, PR_CAPBSET_DROP => 24, PR_SET_NO_NEW_PRIVS => 38, PR_CAP_AMBIENT => 47, PR_CAP_AMBIENT_CLEAR_ALL => 4,
    TIOCSCTTY => 0x540e, F_SETFD => 2, FD_CLOEXEC => 1, READY_FD => 3, GATE_FD => 4, ORDER_FD => 5,
    SIG_BLOCK => 0, SIG_SETMASK => 2,
    ENOENT => 2, EBUSY => 16, ENOTDIR => 20, EACCES => 13, EROFS => 30,
  );
  for my $name (keys %c) { my $v = $c{$name}; Internals::SvREADONLY($v, 1); $main::{$name} = \$v; }
}

# Where a failure is reported: standard error, and for init also the readiness pipe, which `run -d` reads.
my $ready;
my $gate;
my $WHO = $MODE eq 'enter' ? 'exec: ' : '';

# Set while a supervisor (before its container's PID 1 is forked) may fail: what it gave up with is
# recorded as the container's exit, as its exit would have been.
my $on_failure;

sub fail {
  my ($message, $code) = @_;
  my $line = "ctnet: error: $WHO$message\n";
  print STDERR $line;
  $code //= $MODE eq 'enter' ? 126 : 125;
  # The readiness pipe gets the exit code before the line: `run -d` exits with it, as a foreground run does.
  syswrite($ready, "$code $line") if $ready;
  $on_failure->($code) if $on_failure;
  exit($code);
}

# A Perl error (a bug of this program) is reported as a setup failure, not lost on standard error.
$SIG{__DIE__} = sub { return if $^S; my $m = $_[0]; chomp($m); fail("container setup failed: $m"); };

sub errno_name {
  my $n = 0 + $!;
  require Errno;
  my ($name) = grep { my $f = Errno->can($_); $f && $f->() == $n } @Errno::EXPORT_OK;
  return $name // "errno $n";
}

sub sys {
  my ($result, $what) = @_;
  fail("$what: " . errno_name()) if $result < 0;
}

# Arguments are copied: syscall() writes through its string arguments' buffers and refuses read-only
# ones such as literals. A call that fills a buffer (capget, readlinkat) calls syscall() itself.
sub call {
  my ($name, @args) = @_;
  return syscall($nr->{$name}, @args);
}

sub read_file {
  my ($path) = @_;
  open(my $f, '<:raw', $path) or fail("reading $path: $!");
  local $/;
  my $data = <$f>;
  close($f);
  return $data // '';
}

sub write_file {
  my ($path, $text) = @_;
  open(my $f, '>', $path) or fail("writing $path: $!");
  print $f $text;
  close($f) or fail("writing $path: $!");
}

# ---- confinement, shared by init and enter (runc's order) ----------------------------------

sub load_seccomp {
  my ($filter) = @_;
  my $prog = pack('S x6 P', length($filter) / 8, $filter); # struct sock_fprog
  sys(call('seccomp', 1, 0, $prog), 'loading the seccomp filter');
}

# Becomes the user and gives up what the container may not have: without no-new-privileges the
# filter goes first, while CAP_SYS_ADMIN still allows loading it; with it, last before execve.
# $caps: the two capset words kept, or undef (--privileged); $user: [uid, gid] or undef.
# $groups: the whole supplementary list to set (undef: the user's gid alone, or root's as they are).
sub confine {
  my ($caps, $user, $nnp, $filter, $groups) = @_;
  my $last_cap = 0 + read_file('/proc/sys/kernel/cap_last_cap');
  load_seccomp($filter) if ($filter ne '' && !$nnp);
  if ($caps) {
    for my $c (0 .. $last_cap) {
      next if ($caps->[$c >> 5] >> ($c & 31)) & 1;
      sys(call('prctl', PR_CAPBSET_DROP, $c, 0, 0, 0), "dropping capability $c from the bounding set");
    }
  }
  if ($groups) {
    my @g = map { 0 + $_ } @$groups;
    sys(call('setgroups', 0 + @g, pack('L*', @g)), 'setting supplementary groups ' . join(',', @g));
  }
  if ($user) {
    my ($uid, $gid) = (0 + $user->[0], 0 + $user->[1]);
    sys(call('setgroups', 1, pack('L', $gid)), 'setting groups') unless $groups;
    sys(call('setgid', $gid), "setting gid $gid");
    sys(call('setuid', $uid), "setting uid $uid");
  }
  # A user other than root has no capabilities left after setuid, and gets none from execve.
  if ($caps && (!$user || $user->[0] == 0)) {
    my $hdr = pack('LL', 0x20080522, 0);
    my $data = "\0" x 24;
    sys(syscall($nr->{capget}, $hdr, $data), 'reading capabilities');
    my @d = unpack('L6', $data);
    # A container cannot be given more than ctnet has; inheritable stays empty (CVE-2022-24769).
    my ($w0, $w1) = ($caps->[0] & $d[1], $caps->[1] & $d[4]);
    sys(call('capset', $hdr, pack('L6', $w0, $w0, 0, $w1, $w1, 0)), 'setting capabilities');
  }
  sys(call('prctl', PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'clearing ambient capabilities');
  if ($nnp) {
    sys(call('prctl', PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'setting no-new-privileges');
    load_seccomp($filter) if $filter ne '';
  }
}

sub caps_of { my ($w0, $w1) = @_; return $w0 eq '-' ? undef : [0 + $w0, 0 + $w1]; }

# ---- enter: `ctnet exec` -------------------------------------------------------------------

# Joins a running container's cgroups, then every namespace of its PID 1 and its root and
# working directory, forks once so the command is in the container's PID namespace, confines
# itself as the container's first process was, and becomes the command.
sub enter {
  my ($pid, $uid, $gid, $cap0, $cap1, $nnp, $filter_file, $ncg) = splice(@ARGV, 0, 8);
  my @procs = splice(@ARGV, 0, $ncg);
  # 0: the writer (on v1 through `tasks`, its thread alone, which the kernel moves without its global lock).
  for my $p (@procs) { open(my $f, '>>', $p) or fail("$p: $!", 126); print $f "0\n"; close($f) or fail("$p: $!", 126); }
  my $filter = $filter_file ne '' ? read_file($filter_file) : '';
  my @ns = map { open(my $fh, '<', "/proc/$pid/ns/$_") or fail("/proc/$pid/ns/$_: $!", 126); $fh } qw(cgroup ipc uts net pid mnt);
  open(my $root, '<', "/proc/$pid/root") or fail("/proc/$pid/root: $!", 126);
  open(my $wd, '<', "/proc/$pid/cwd") or fail("/proc/$pid/cwd: $!", 126);
  copy_limits($pid);
  # Its supplementary groups, as PID 1 has them (its user's and --group-add's).
  my ($groups) = read_file("/proc/$pid/status") =~ /^Groups:[ \t]*([\d ]*)$/m;
  for my $fh (@ns) { call('setns', fileno($fh), 0) == 0 or fail("setns: $!", 126); }
  call('fchdir', fileno($root)) == 0 or fail("fchdir: $!", 126);
  my $dot = '.';
  call('chroot', $dot) == 0 or fail("chroot: $!", 126);
  call('fchdir', fileno($wd)) == 0 or chdir('/');
  close($_) for (@ns, $root, $wd);
  my $child = fork() // fail("fork: $!", 126);
  if ($child) {
    $SIG{INT} = $SIG{QUIT} = 'IGNORE';
    $SIG{TERM} = $SIG{HUP} = sub { kill($_[0], $child); };
    while (waitpid($child, 0) != $child) {}
    exit(($? & 127) ? 128 + ($? & 127) : $? >> 8);
  }
  confine(caps_of($cap0, $cap1), $uid eq '-' ? undef : [$uid, $gid], $nnp, $filter, [split(' ', $groups // '')]);
  exec { $ARGV[0] } @ARGV;
  my ($err, $code) = ("$!", $! == ENOENT ? 127 : 126);
  fail("cannot run $ARGV[0]: $err", $code);
}

# The resource limits of process $from (every one setrlimit knows), given to this process: an exec
# gets the container's --ulimit values, as Docker's does.
sub copy_limits {
  my ($from) = @_;
  for my $resource (0 .. 15) {
    my $limit = "\0" x 16;
    next if syscall($nr->{prlimit64}, 0 + $from, $resource, 0, $limit) < 0;
    syscall($nr->{prlimit64}, 0, $resource, $limit, 0) >= 0 or fail("setting resource limit $resource as the container has it: $!", 126);
  }
}

# ---- init: a container's start -------------------------------------------------------------

# The spec ctnet wrote (0600, in the container's state directory: never on a command line, where
# every user could read its environment): NUL-terminated strings, each field as its name, the
# number of values and the values (see encodeInitSpec in src/sandbox/spec.ts).
sub read_spec {
  my @f = split(/\0/, read_file($_[0]), -1);
  pop(@f);
  my %spec;
  while (@f) {
    my ($key, $n) = splice(@f, 0, 2);
    $spec{$key} = [splice(@f, 0, $n)];
  }
  return \%spec;
}

my $S; # the spec
sub one { return $S->{$_[0]}[0] // ''; }
sub flag { return one($_[0]) eq '1'; }

# Docker's masked paths (oci defaults): files of the kernel a container has no business reading.
my @MASKED_PATHS = qw(/proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list
  /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap);
# Docker's read-only paths: the kernel's knobs (sysctls, sysrq, IRQs), readable but not writable.
my @READONLY_PATHS = qw(/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger);
# The devices every container gets (runc's defaults, without the host's others), bound from the host's /dev.
my @DEVICES = qw(null zero full random urandom tty);
my $DEV_TMPFS = 'mode=755,size=65536k';

sub mnt {
  my ($source, $target, $fstype, $flags, $data) = @_;
  sys(call('mount', $source, $target, $fstype // 0, 0 + $flags, $data // 0), 'mounting ' . ($fstype // $source) . " on $target");
}

sub bind_mount { mnt($_[0], $_[1], undef, MS_BIND | MS_REC); }

# Sets and clears mount attributes of the mount at $path (with $tree, of every mount below it too): mount_setattr, Linux 5.12.
sub set_mount_attrs {
  my ($path, $set, $clear, $tree) = @_;
  my $attr = pack('QQQQ', $set, $clear, 0, 0); # struct mount_attr
  sys(call('mount_setattr', AT_FDCWD, $path, $tree ? AT_RECURSIVE : 0, $attr, 32), "changing the mount flags of $path");
}

sub read_only_tree { set_mount_attrs($_[0], MOUNT_ATTR_RDONLY, 0, 1); }

sub fd_path { return "/proc/self/fd/$_[0]"; }

sub close_fd { call('close', 0 + $_[0]); }

# An O_PATH descriptor of $path: a handle that mounts can use through /proc/self/fd without opening the file.
sub open_path {
  my ($path) = @_;
  my $fd = call('openat', AT_FDCWD, $path, O_PATH | O_CLOEXEC, 0);
  sys($fd, "opening $path");
  return $fd;
}

# The target of the symbolic link open at $fd (O_PATH | O_NOFOLLOW), or undef when it is not one:
# readlinkat on the descriptor itself succeeds for a symbolic link only.
sub link_target {
  my ($fd) = @_;
  my ($empty, $target) = ('', "\0" x 4096);
  my $n = syscall($nr->{readlinkat}, $fd, $empty, $target, 4096);
  return $n >= 0 ? substr($target, 0, $n) : undef;
}

sub tree_name { return one('rootfs') ne '' ? 'in the rootfs' : "in the container's tree"; }

sub below_or_at { my ($path, $dir) = @_; return $path eq $dir || index($path, "$dir/") == 0; }

# A path of the container's tree (the rootfs, or the host's root seen from the container), made when
# missing (directories, and an empty file at the end of a file mount) and returned as descriptors: its
# parent's (undef for the root itself), its name there, its own, and its path as resolved. It is walked one component at a time from a descriptor of the
# root with O_NOFOLLOW: what gets mounted is what was resolved, whatever the container changes
# meanwhile (runc's fix for CVE-2021-30465). Symbolic links are followed as the container will see
# them, inside that tree (as runc's securejoin does): an absolute one starts again at its root and
# `..` stops there, so a link in an image (/var/run -> /run) works and none leads onto host files.
# $tree is the root's descriptor (fd) and what says of a directory, by its path as resolved, why a
# missing component may not be made in it (cannot_create: undef where it may). $what names the path
# in an error (the mount point unless told).
sub open_in_root {
  my ($tree, $path, $kind, $what) = @_;
  $what //= 'the mount point';
  my $in = tree_name();
  my @todo = split(m{/}, $path);
  my $dot = '.';
  my $root = call('openat', $tree->{fd}, $dot, O_PATH | O_CLOEXEC, 0);
  sys($root, 'opening the rootfs');
  # The directories walked so far, each with its name; the root is never left.
  my @stack = ([$root, '']);
  my $links = 0;
  my $back_to = sub { my ($depth) = @_; close_fd((pop @stack)->[0]) while @stack > $depth; };
  while (@todo) {
    my $part = shift @todo;
    next if $part eq '' || $part eq '.';
    if ($part eq '..') { $back_to->(@stack - 1) if @stack > 1; next; }
    my $dir = $stack[-1][0];
    my $fd = call('openat', $dir, $part, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if ($fd < 0 && $! == ENOENT) {
      my $where = join('/', map { $_->[1] } @stack) || '/';
      if (defined(my $why = $tree->{cannot_create}->($where))) {
        $back_to->(0);
        fail("$what $path does not exist $in (" . ($where eq '/' ? '' : $where) . "/$part is missing) and $why");
      }
      my $made;
      if ($kind eq 'file' && !grep { $_ ne '' && $_ ne '.' } @todo) {
        $made = call('openat', $dir, $part, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        close_fd($made) if $made >= 0;
      } else {
        $made = call('mkdirat', $dir, $part, 0755);
      }
      if ($made < 0 && $! == EROFS) {
        $back_to->(0);
        fail("cannot make $what $path $in: $where is read-only; create it there first, or mount that read-write");
      }
      sys($made, "creating $path $in");
      $fd = call('openat', $dir, $part, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    }
    sys($fd, "opening $path $in");
    my $target = link_target($fd);
    if (!defined $target) { push(@stack, [$fd, $part]); next; }
    close_fd($fd);
    if (++$links > 40) {
      $back_to->(0);
      fail("$path $in goes through more than 40 symbolic links (a loop?); make it a path without them");
    }
    $back_to->(1) if $target =~ m{^/};
    unshift(@todo, split(m{/}, $target));
  }
  # The root itself: nothing above it to name it in.
  return (undef, '', $stack[0][0], '/') if @stack == 1;
  my $resolved = join('/', map { $_->[1] } @stack);
  my ($fd, $name) = @{ pop @stack };
  my $parent = (pop @stack)->[0];
  $back_to->(0);
  return ($parent, $name, $fd, $resolved);
}

# Mounts onto a path of the rootfs through a descriptor of it. A magic link (/proc/self/fd/N)
# leads to what the descriptor holds, not to what is mounted on it since: $configure gets the new
# mount through its name looked up again in the held parent (a mount point cannot be renamed).
# Returns where the mount went, as resolved.
sub mount_in_root {
  my ($tree, $path, $kind, $do_mount, $configure) = @_;
  my ($parent, $name, $fd, $resolved) = open_in_root($tree, $path, $kind);
  if (!defined $parent) {
    close_fd($fd);
    fail("$path " . tree_name() . ' leads to its root; mount on a path below it');
  }
  $do_mount->(fd_path($fd));
  if ($configure) {
    my $mounted = call('openat', $parent, $name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    sys($mounted, "opening $path");
    $configure->(fd_path($mounted));
    close_fd($mounted);
  }
  close_fd($fd);
  close_fd($parent);
  return $resolved;
}

# -w: the working directory, made when missing where a mount point could be (as Docker makes it).
sub make_workdir {
  my ($tree) = @_;
  return unless flag('cwd_required');
  my ($parent, undef, $fd) = open_in_root($tree, one('cwd'), 'dir', 'the working directory');
  close_fd($_) for grep { defined } ($fd, $parent);
}

# The network namespace's own sysfs (what /sys/class/net shows), read-only unless privileged.
sub sysfs {
  my ($target, $writable) = @_;
  # EBUSY: this very sysfs is mounted there already (started under ip netns exec): keep it.
  if (call('mount', 'sysfs', $target, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 0) < 0 && $! != EBUSY) {
    sys(-1, "mounting sysfs on $target");
  }
  read_only_tree($target) unless $writable;
}

# Host files a container's mounts come from, opened before any mount can hide them.
my (%SOURCES, %DEVICE_FDS, @VOLUME_TREES);
# The /dev/shm of the IPC namespace the container shares (the host's, or a shareable container's:
# its own, or the one it joined); undef: a tmpfs of its own.
my $SHM_FROM;

# A detached copy of the mounts at $path and below (open_tree, Linux 5.2), taken before the container's
# own /proc, /dev and /run go onto the host's: a recursive bind made later would carry those in
# (`-v /run:/x` showed the container's empty /run).
sub clone_tree {
  my ($path) = @_;
  my $fd = call('open_tree', AT_FDCWD, $path, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
  sys($fd, "copying the mounts of $path");
  return $fd;
}

# Attaches volume $i ($v) as copied at $target (a path, or a descriptor's magic link in /proc/self/fd).
sub attach_volume {
  my ($i, $v, $target) = @_;
  my $dir = volume_kind($i) eq 'dir';
  if ($dir != (-d $target ? 1 : 0)) {
    fail("-v $v->{source}:$v->{target}: " . ($dir ? "a directory cannot go on the file $v->{target}" : "a file cannot go on the directory $v->{target}")
      . '; mount a file on a file and a directory on a directory');
  }
  my $empty = '';
  sys(call('move_mount', $VOLUME_TREES[$i], $empty, AT_FDCWD, $target, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS), "mounting a volume on $target");
}

sub volume_kind { return -d fd_path($VOLUME_TREES[$_[0]]) ? 'dir' : 'file'; }

sub open_sources {
  $SOURCES{$_} //= open_path($_) for map { $_->{source} } files();
  $SOURCES{$SHM_FROM} //= open_path($SHM_FROM) if defined $SHM_FROM;
  @VOLUME_TREES = map { clone_tree($_->{source}) } volumes();
  return if flag('privileged');
  $DEVICE_FDS{$_} = open_path("/dev/$_") for @DEVICES;
  # --device: HOST and its name below /dev (net/tun), a default's replaced by it.
  my @d = @{ $S->{devices} // [] };
  while (my ($host, $name) = splice(@d, 0, 2)) { $DEVICE_FDS{$name} = open_path($host); }
  # run -t: its terminal is also /dev/console, as in Docker, so ttyname(3) finds it inside. Opened by
  # its name in this mount namespace: the descriptor itself belongs to ctnet's namespace's devpts mount.
  $DEVICE_FDS{console} = open_path(readlink(fd_path(0))) if flag('terminal');
}

sub source_of { return fd_path($SOURCES{$_[0]}); }

sub close_sources { close_fd($_) for (values %SOURCES, values %DEVICE_FDS, @VOLUME_TREES); }

# The tmpfs is nodev: a device node made in it (CAP_MKNOD) cannot be opened; the bound nodes keep the host's devtmpfs flags.
sub dev_nodes {
  my ($dev) = @_;
  for my $name (sort keys %DEVICE_FDS) {
    my $dir = $dev;
    for my $part (split(m{/}, $name =~ s{/?[^/]*$}{}r)) { $dir .= "/$part"; mkdir($dir) or -d $dir or fail("creating $dir: $!"); }
    write_file("$dev/$name", '');
    mnt(fd_path($DEVICE_FDS{$name}), "$dev/$name", undef, MS_BIND);
    set_mount_attrs("$dev/$name", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, 0);
  }
  my %links = (fd => '/proc/self/fd', stdin => '/proc/self/fd/0', stdout => '/proc/self/fd/1', stderr => '/proc/self/fd/2', ptmx => 'pts/ptmx');
  for my $name (sort keys %links) { symlink($links{$name}, "$dev/$name") or fail("linking $dev/$name: $!"); }
  for my $d ('pts', 'mqueue', one('ipc') eq 'none' ? () : 'shm') { mkdir("$dev/$d") or fail("creating $dev/$d: $!"); }
  mnt('devpts', "$dev/pts", 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620');
  own_shm("$dev/shm");
  mnt('mqueue', "$dev/mqueue", 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

# The container's own /dev/shm (--shm-size bytes, or the tmpfs default), also over a privileged
# container's /dev, the host's, as Docker gives one. --ipc host, shareable or container:NAME: the
# one at $SHM_FROM; --ipc none: none.
sub own_shm {
  my ($dir) = @_;
  return if one('ipc') eq 'none';
  if (defined $SHM_FROM) {
    mnt(source_of($SHM_FROM), $dir, undef, MS_BIND);
    # Bound from the host's tree, which the container's view has made read-only.
    return set_mount_attrs($dir, 0, MOUNT_ATTR_RDONLY, 0);
  }
  my $size = one('shm_size');
  mnt('tmpfs', $dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777' . ($size ne '' ? ",size=$size" : ''));
}

# /dev: the host's whole /dev for a privileged container (as Docker), with a /dev/shm of its own;
# otherwise a tmpfs with the harmless devices bound in from the host, its own pseudo-terminals,
# shared memory and message queues.
sub own_dev {
  my ($dev) = @_;
  if (flag('privileged')) { bind_mount('/dev', $dev); return own_shm("$dev/shm"); }
  mnt('tmpfs', $dev, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, $DEV_TMPFS);
  dev_nodes($dev);
}

# Masked and read-only kernel files, Docker's lists; a privileged container sees them as they are.
sub protect_kernel_files {
  for my $path (@MASKED_PATHS) {
    next unless -e $path;
    if (-d _) { mnt('tmpfs', $path, 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=0'); }
    else { mnt('/dev/null', $path, undef, MS_BIND); }
  }
  for my $path (@READONLY_PATHS) {
    next unless -e $path;
    bind_mount($path, $path);
    read_only_tree($path);
  }
}

# Covers a host directory with an empty read-only tmpfs (ctnet's state, /run's sockets and namespaces).
sub hide {
  mnt('tmpfs', $_[0], 'tmpfs', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 'size=0,mode=755') if -d $_[0];
}

sub detach { call('umount2', $_[0], MNT_DETACH); } # EINVAL: not a mount point here

# The host's mount of a kernel filesystem (/proc, /sys) must not come back by a umount of the
# container's own above it. A container that may hold CAP_SYS_ADMIN (--privileged, --cap-add) could
# umount: there the host's is detached first. One without it in its bounding set never gets it and
# cannot umount, so the container's own is mounted over the host's: a detach waits for an RCU grace
# period, ~1-6 ms of every start on a busy 2-CPU machine.
sub may_unmount {
  my @caps = @{ $S->{caps} };
  return !@caps || (($caps[0] >> 21) & 1);
}

sub volumes {
  my @v = @{ $S->{volumes} };
  return map { { source => $v[3 * $_], target => $v[3 * $_ + 1], read_only => $v[3 * $_ + 2] eq '1' } } 0 .. @v / 3 - 1;
}

# A volume keeps the host's flags of its mounts (as Docker's recursive bind), with :ro and, unless privileged, nodev on all of them.
sub volume_attrs {
  my ($v, $privileged) = @_;
  return ($v->{read_only} ? MOUNT_ATTR_RDONLY : 0) | ($privileged ? 0 : MOUNT_ATTR_NODEV);
}

sub files {
  my @f = @{ $S->{files} };
  return map { { path => $f[2 * $_], source => $f[2 * $_ + 1] } } 0 .. @f / 2 - 1;
}

# The flags and data of tmpfs $i (ctnet computes them from the --tmpfs options); a spec an earlier
# ctnet wrote has none: its defaults.
sub tmpfs_mount {
  my ($i) = @_;
  my $m = $S->{tmpfs_mounts} // [];
  return @$m ? (0 + $m->[2 * $i], $m->[2 * $i + 1]) : (MS_NOSUID | MS_NODEV, 'mode=1777');
}

# The container's own mounts (--tmpfs, ctnet's /etc files, volumes), each as its target, what it is
# (dir or file), how it is mounted on a path and what is set on the mount after (ctnet's files are
# optional: one whose path is missing on the host is left out). Parents come
# before what goes below them, as runc sorts them: a volume at /a given after one at /a/b does not
# hide it. At one depth, in that order: a volume at /etc/hosts replaces ctnet's file.
sub own_mounts {
  my ($privileged) = @_;
  my @volumes = volumes();
  my @m = (
    (map { my $i = $_; { target => $S->{tmpfs}[$i], kind => 'dir', mount => sub { mnt('tmpfs', $_[0], 'tmpfs', tmpfs_mount($i)) } } } 0 .. $#{ $S->{tmpfs} }),
    # A file of the read-only host tree (ctnet's state directory) is bound read-only: made writable at its top.
    (map { my $f = $_; { target => $f->{path}, kind => 'file', optional => 1, mount => sub { bind_mount(source_of($f->{source}), $_[0]) },
      configure => sub { set_mount_attrs($_[0], 0, MOUNT_ATTR_RDONLY, 0) } } } files()),
    (map { my $i = $_; my $set = volume_attrs($volumes[$i], $privileged);
      { target => $volumes[$i]{target}, kind => volume_kind($i), mount => sub { attach_volume($i, $volumes[$i], $_[0]) },
        configure => sub { set_mount_attrs($_[0], $set, 0, 1) if $set } } } 0 .. $#volumes),
  );
  for my $i (0 .. $#m) { $m[$i]{order} = $i; $m[$i]{depth} = scalar(grep { $_ ne '' && $_ ne '.' } split(m{/}, $m[$i]{target})); }
  return sort { $a->{depth} <=> $b->{depth} || $a->{order} <=> $b->{order} } @m;
}

# Without a rootfs: the host's tree, read-only, with the container's own /proc, /sys, /dev, /run,
# files, and --tmpfs mounts; ctnet's state directory is covered. Sources are opened (volumes copied)
# first: a tmpfs would otherwise hide a source below it.
sub host_root_view {
  my $privileged = flag('privileged');
  read_only_tree('/');
  my $detach = may_unmount();
  detach('/proc') if $detach;
  mnt('proc', '/proc', 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC);
  detach('/sys') if $detach;
  sysfs('/sys', $privileged);
  own_dev('/dev');
  mnt('tmpfs', '/run', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=755,size=65536k');
  # A target is reached in the container's tree, whose /run and /dev are its own (a volume at
  # /var/run/docker.sock goes onto its /run through the host's link), and made when missing only in
  # a directory of its own (a tmpfs, /run, /dev unless privileged: then it is the host's, a volume),
  # as Docker makes it; the host's read-only tree has it already (ctnet checks before the start).
  my @own = ('/run', $privileged ? () : '/dev');
  my $tree = { fd => open_path('/'), cannot_create => sub {
    my ($d) = @_;
    return grep({ below_or_at($d, $_) } @own) ? undef : "cannot be made on the host's tree, which the container sees read-only; create it on the host, or mount below a --tmpfs or a volume";
  } };
  for my $m (own_mounts($privileged)) {
    # ctnet's files go where the host has them, a link included (/etc/resolv.conf -> ../run/...).
    next if $m->{optional} && !-e $m->{target} && !-l $m->{target};
    my $at = mount_in_root($tree, $m->{target}, $m->{kind}, $m->{mount}, $m->{configure});
    push(@own, $at) if $m->{kind} eq 'dir';
  }
  make_workdir($tree);
  close_fd($tree->{fd});
  # A directory the user mounts in on purpose stays.
  my @chosen = (@{ $S->{tmpfs} }, map { $_->{target} } volumes());
  for my $path (@{ $S->{hide} }) {
    hide($path) unless grep { $_ eq $path || index($_, "$path/") == 0 || index($path, "$_/") == 0 } @chosen;
  }
}

# With a rootfs: that directory becomes / (pivot_root), with /proc, /sys, /dev, the container's files and mounts.
sub rootfs_view {
  my ($root) = @_;
  my $privileged = flag('privileged');
  bind_mount($root, $root); # pivot_root needs the new root to be a mount point
  set_mount_attrs($root, MOUNT_ATTR_NODEV, 0, 1) unless $privileged;
  # Mount points are made anywhere in the rootfs but in a privileged container's /dev, the host's.
  my $tree = { fd => open_path($root), cannot_create => sub {
    return $privileged && below_or_at($_[0], '/dev') ? "cannot be made in a privileged container's /dev, the host's; create it there first, or mount elsewhere" : undef;
  } };
  mount_in_root($tree, '/proc', 'dir', sub { mnt('proc', $_[0], 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC) });
  mount_in_root($tree, '/sys', 'dir', sub { sysfs($_[0], 1) }, sub { read_only_tree($_[0]) unless $privileged });
  if ($privileged) { mount_in_root($tree, '/dev', 'dir', sub { bind_mount('/dev', $_[0]) }, sub { own_shm("$_[0]/shm") }); }
  else { mount_in_root($tree, '/dev', 'dir', sub { mnt('tmpfs', $_[0], 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, $DEV_TMPFS) }, \&dev_nodes); }
  mount_in_root($tree, $_->{target}, $_->{kind}, $_->{mount}, $_->{configure}) for own_mounts($privileged);
  make_workdir($tree);
  close_fd($tree->{fd});
  # --read-only: the rootfs's own mount only; what is mounted on it keeps its flags.
  set_mount_attrs($root, MOUNT_ATTR_RDONLY, 0, 0) if flag('readonly_root');
  chdir($root) or fail("entering $root: $!");
  # The old root is stacked on the new one and then detached: nothing of the host stays reachable.
  my $dot = '.';
  sys(call('pivot_root', $dot, $dot), "pivot_root to $root");
  sys(call('umount2', $dot, MNT_DETACH), 'detaching the old root');
  chdir('/') or fail("entering /: $!");
}

# --ulimit, before the capabilities go (raising a hard limit needs CAP_SYS_RESOURCE); -1 is unlimited.
sub set_ulimits {
  my @u = @{ $S->{ulimits} // [] };
  while (my ($name, $resource, $soft, $hard) = splice(@u, 0, 4)) {
    my $limit = pack('QQ', map { $_ == -1 ? ~0 : $_ } $soft, $hard);
    sys(syscall($nr->{prlimit64}, 0, 0 + $resource, $limit, 0), "--ulimit $name=$soft:$hard");
  }
}

# --sysctl of the IPC namespace (kernel.shmmax, fs.mqueue.*): a process's writes there go to its own
# IPC namespace, which it has just made; before /proc/sys turns read-only.
sub ipc_sysctls {
  my @s = @{ $S->{sysctls} // [] };
  while (my ($path, $value) = splice(@s, 0, 2)) {
    my $key = $path =~ tr{/}{.}r;
    open(my $f, '>', "/proc/sys/$path") or fail("--sysctl $key: $!; check the name");
    print {$f} $value or fail("--sysctl $key=$value: $!; give a value the kernel takes");
    close($f) or fail("--sysctl $key=$value: $!; give a value the kernel takes");
  }
}

# Runs the command in place of this process, searching PATH as execvp does. Returns only by failing.
sub exec_command {
  my @command = @_;
  %ENV = ();
  for my $kv (@{ $S->{env} }) { my $i = index($kv, '='); $ENV{substr($kv, 0, $i)} = substr($kv, $i + 1); }
  my @candidates = index($command[0], '/') >= 0 ? ($command[0]) : map { "$_/$command[0]" } grep { $_ ne '' } split(/:/, $ENV{PATH} // '');
  my $denied;
  for my $path (@candidates) {
    exec { $path } @command;
    if ($! == EACCES) { $denied = $path; }
    elsif ($! != ENOENT && $! != ENOTDIR) { fail("cannot run $path: " . errno_name(), 126); }
  }
  fail("cannot run $denied: permission denied", 126) if defined $denied;
  fail("command $command[0] was not found in the container" . (index($command[0], '/') >= 0 ? '' : ' (PATH)'), 127);
}

# ctnet starts a container while it still makes the container's network, and writes "g" on the gate
# (fd 4) once that is done. Without it (ctnet gave up, or died) the command must not run. A restart
# by the supervisor has /dev/null there instead, and no gate.
sub pass_gate {
  return unless $gate;
  my $n = sysread($gate, my $go, 1);
  return if ($n // 0) == 1 && $go eq 'g';
  print STDERR "ctnet: error: ctnet did not finish the container's network; the command was not started\n";
  exit 125;
}

# PID 1 of the new PID namespace: builds the container and becomes its command.
sub container_init {
  $SIG{$_} = 'DEFAULT' for qw(INT QUIT TERM HUP PIPE XFSZ);
  # The host's PID (/proc is still the host's here), written once the command may run: the supervisor
  # restarts only a container whose first start got that far.
  my $host_pid = readlink('/proc/self');
  open(my $pid_file, '>', one('pidfile')) or fail("writing " . one('pidfile') . ": $!");
  # Its own IPC and UTS namespaces unless it shares the host's (--ipc host, --uts host: no hostname)
  # or joins another container's (--ipc container:NAME). Here, not in whoever forked it: a restart
  # by the supervisor comes through here too.
  my ($ipc, @ipc_args) = @{ $S->{ipc} // [] };
  $ipc //= 'private';
  if ($ipc eq 'host') { $SHM_FROM = '/dev/shm'; }
  elsif ($ipc eq 'shareable') { $SHM_FROM = shareable_shm(@ipc_args); }
  elsif ($ipc eq 'container') {
    my ($pidfile, $name, $mark, $shm) = @ipc_args;
    my ($ns) = donor_namespace('ipc', $pidfile, $name, $mark);
    sys(call('setns', fileno($ns), CLONE_NEWIPC), "joining the IPC namespace of container $name");
    close($ns);
    $SHM_FROM = $shm;
  }
  my $hostname = one('hostname');
  sys(call('unshare', CLONE_NEWNS | ($ipc eq 'host' || $ipc eq 'container' ? 0 : CLONE_NEWIPC) | ($hostname ne '' ? CLONE_NEWUTS : 0)), 'making the mount, IPC and UTS namespaces');
  sys(call('sethostname', $hostname, 0 + length($hostname)), "setting hostname $hostname") if $hostname ne '';
  my $domainname = one('domainname');
  sys(call('setdomainname', $domainname, 0 + length($domainname)), "setting domainname $domainname") if $domainname ne '';
  ipc_sysctls();
  my $slash = '/';
  sys(call('mount', 0, $slash, 0, MS_REC | MS_PRIVATE, 0), 'making mount propagation private');
  # A safety net: everything below changes mounts, which must never happen in the host's mount namespace.
  fail("ctnet-init runs in the host mount namespace; it must run in a mount namespace of its own")
    if (stat('/proc/self/ns/mnt'))[1] == one('hostmntns');
  # The copies of the host's named network namespaces (/run/netns), a mount each: kept in every
  # running container, the kernel's mounts grew with the square of the containers (127 a container
  # at 150 running, 49 without them). Only now that the copies are private: detached while shared,
  # the host's would go with them. (A spec an earlier ctnet wrote, restarted, has no such field.)
  detach($_) for @{ $S->{detach} // [] };
  # No controlling terminal: the caller's terminal cannot be driven from inside (TIOCSTI needs it, or CAP_SYS_ADMIN).
  call('setsid');
  sys(call('ioctl', 0, TIOCSCTTY, 0), 'taking the pseudo-terminal') if flag('terminal');
  # First, while the cgroup tree is in reach and writable; 0 is the writer, whatever its PID namespace
  # (on v1 through `tasks`: its thread alone, which the kernel moves without its global lock).
  write_file($_, '0') for @{ $S->{cgroup} };
  # Its cgroups are then the root of its own cgroup namespace (/proc/self/cgroup shows /).
  sys(call('unshare', CLONE_NEWCGROUP), 'making the cgroup namespace') if @{ $S->{cgroup} };
  my $filter = one('seccomp') ne '' ? read_file(one('seccomp')) : ''; # in ctnet's state directory, hidden below
  open_sources();
  if (one('rootfs') ne '') { rootfs_view(one('rootfs')); } else { host_root_view(); }
  close_sources();
  protect_kernel_files() unless flag('privileged');
  set_ulimits();
  my @caps = @{ $S->{caps} };
  my $user = @{ $S->{user} } ? $S->{user} : undef;
  my @groups = @{ $S->{groups} // [] };
  confine(@caps ? [map { 0 + $_ } @caps] : undef, $user, flag('nnp'), $filter, @groups ? [$user ? $user->[1] : 0, @groups] : undef);
  # A user may not be allowed into the caller's directory: then /, and if not even that, where it is.
  # A directory given with -w is entered or the start fails, as Docker's does.
  if (flag('cwd_required')) { chdir(one('cwd')) or fail('cannot enter the working directory ' . one('cwd') . ": $!; give one the user may enter"); }
  else { chdir(one('cwd')) or chdir('/'); }
  pass_gate();
  syswrite($pid_file, $host_pid);
  close($pid_file);
  # --init: a shell is PID 1 and runs the command in the foreground (it keeps its standard input and
  # signal dispositions); while it waits, it reaps every child, orphans included, then exits as the command did.
  exec_command(flag('init') ? ('/bin/sh', '-c', '"$@"; exit $?', 'ctnet-init', @{ $S->{command} }) : @{ $S->{command} });
}

# --ipc shareable: the container's /dev/shm is a tmpfs at $dir, in the host's mount namespace (made
# here, before this process leaves it, and kept across restarts), where a container that joins its
# IPC namespace binds it from too, as Docker does (a mount of another mount namespace cannot be
# bound). ctnet unmounts it when it removes the container.
sub shareable_shm {
  my ($dir) = @_;
  mkdir($dir, 0700) or -d $dir or fail("creating $dir: $!");
  return $dir if (stat($dir))[0] != (stat("$dir/.."))[0];
  my $size = one('shm_size');
  mnt('tmpfs', $dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777' . ($size ne '' ? ",size=$size" : ''));
  return $dir;
}

# --pid host or container:NAME: when the command ends, nothing ends what it started (in a PID
# namespace of its own the kernel would), so whoever waited for it kills what is left in the
# container's cgroup, as runc does for a container without its own PID namespace. $_[0] lists the
# cgroup's processes (v1 `tasks` or v2 `cgroup.procs`, as this process's PID namespace numbers
# them); zombies are not waited for.
my $END_LEFTOVERS = <<'END';
sub end_leftovers {
  my ($list) = @_;
  for (1 .. 200) {
    open(my $f, '<', $list) or return;
    my @live = grep {
      my $stat = '';
      if (open(my $s, '<', "/proc/$_/stat")) { $stat = <$s> // ''; }
      $stat ne '' && substr($stat, rindex($stat, ')') + 2, 1) ne 'Z';
    } map { /^(\d+)$/ ? $1 : () } <$f>;
    close($f);
    return unless @live;
    kill('KILL', @live);
    select(undef, undef, undef, 0.01);
  }
}
END
eval $END_LEFTOVERS;

# The processes the waiter of a container without a PID namespace of its own ends after its command:
# '' for a container with its own, or without a cgroup.
sub leftovers_list { return @{ $S->{pid} // [] } ? $S->{cgroup}[0] // '' : ''; }

# Another container's namespace of $kind (pid, ipc), through the PID its PID 1 has in its PID file,
# and that PID: the PID is that container's while the process is in its cgroup ($mark, /ctnet/ID;
# '' on a host without cgroups). Looked at in the host's cgroup namespace.
sub donor_namespace {
  my ($kind, $pidfile, $name, $mark) = @_;
  my $gone = "container $name is not running, so its \U$kind\E namespace cannot be joined; start it, or drop --$kind container:$name";
  open(my $f, '<', $pidfile) or fail($gone);
  my $pid = (<$f> // '') =~ s/\s+//gr;
  close($f);
  fail($gone) unless $pid =~ /^\d+$/;
  open(my $ns, '<', "/proc/$pid/ns/$kind") or fail($gone);
  if ($mark ne '') {
    open(my $cgroups, '<', "/proc/$pid/cgroup") or fail($gone);
    fail($gone) unless grep { /\Q$mark\E$/ } <$cgroups>;
  }
  return ($ns, $pid);
}

# PID 1's PID namespace, made or joined by the process that forks it: its own (no @mode), the
# host's (host), or another container's (container, its PID file, name and cgroup mark).
sub pid_namespace {
  my ($mode, @donor) = @_;
  $mode //= 'private';
  return if $mode eq 'host';
  if ($mode ne 'container') { sys(call('unshare', CLONE_NEWPID), 'making the PID namespace'); return; }
  my ($ns) = donor_namespace('pid', @donor);
  sys(call('setns', fileno($ns), CLONE_NEWPID), "joining the PID namespace of container $donor[1]");
  close($ns);
}

my $WAITER = $END_LEFTOVERS . '$SIG{$_} = sub {} for qw(INT TERM HUP QUIT); my ($pid, $list) = @ARGV; while (waitpid($pid, 0) != $pid) {} my $code = $?; end_leftovers($list) if $list ne ""; exit(($code & 127) ? 128 + ($code & 127) : $code >> 8);';

sub wait_for {
  my ($pid) = @_;
  $SIG{$_} = sub {} for qw(INT TERM HUP QUIT);
  while (waitpid($pid, 0) != $pid) {}
  my $code = $?;
  end_leftovers(leftovers_list()) if leftovers_list() ne '';
  exit(($code & 127) ? 128 + ($code & 127) : $code >> 8);
}

# Makes the PID namespace and forks its PID 1, then waits and exits as PID 1 did, the way a shell
# reports it (128 + signal: util-linux `unshare --fork` says 1 for a SIGKILL, which would hide every
# OOM kill). TERM, INT, HUP and QUIT do not end it: they are meant for PID 1, which ctnet signals
# directly. If it is killed, the kernel kills PID 1 too (PR_SET_PDEATHSIG).
# The readiness pipe from ctnet (fd 3; Node makes it a socket pair for a foreground run): closed by
# execve, so its end tells ctnet the command runs. The gate (fd 4, another one) is where ctnet lets
# the command run (pass_gate). A restart by the supervisor has neither.
sub take_start_pipes {
  if (open(my $fd3, '>&=', READY_FD)) {
    if (-p $fd3 || -S $fd3) { $ready = $fd3; fcntl($ready, F_SETFD, FD_CLOEXEC); }
  }
  if (open(my $fd4, '<&=', GATE_FD)) {
    if (-p $fd4 || -S $fd4) { $gate = $fd4; fcntl($gate, F_SETFD, FD_CLOEXEC); }
  }
}

sub init {
  take_start_pipes();
  $S = read_spec($ARGV[0] // fail('no spec file given'));
  pid_namespace(@{ $S->{pid} });
  my $pid = fork() // fail("fork: $!");
  if (!$pid) {
    call('prctl', PR_SET_PDEATHSIG, 9);
    container_init();
  }
  close($ready) if $ready;
  close($gate) if $gate;
  # It waits as a Perl of a few lines: this one's compiled program holds ~1.2 MB more, in every container.
  exec { $^X } 'ctnet-init', '-e', $WAITER, $pid, leftovers_list();
  wait_for($pid);
}

# ---- supervise: a detached container's supervisor -------------------------------------------

# The signals a supervisor passes on (TERM, INT, and what --stop-signal may name: QUIT, HUP, USR1,
# USR2), as a kernel sigset; $SUPERVISOR gets the number in place of STOPSET.
my $STOP_SIGSET = 0;
$STOP_SIGSET |= 1 << ($_ - 1) for (15, 2, 3, 1, 10, 12);
my $STOP_SIGNALS = pack('Q<', $STOP_SIGSET);
sub block_stop_signals { sys(call('rt_sigprocmask', SIG_BLOCK, $STOP_SIGNALS, 0, 8), 'blocking the stop signals'); }
sub unblock_all_signals { sys(call('rt_sigprocmask', SIG_SETMASK, pack('Q<', 0), 0, 8), 'unblocking signals'); }

# What the supervisor is once the container's PID 1 is forked: a Perl of a few lines (this one's
# compiled program holds ~1.2 MB more, in every container). It waits for PID 1 and records how it
# ended. TERM and INT to it (or QUIT, HUP, USR1, USR2: a --stop-signal) go on to the container's
# PID 1 (named in the PID file) and mean no restart.
# A start that failed is started again, up to MAX times (a negative MAX: whatever its exit, until
# stopped), by running `supervise` again in its place (its PID, which ctnet recorded, stays); the
# first one only if it ran the command (it writes the PID file at ctnet-init's gate: ctnet gave up on
# the container, or died while making its network). Between starts it waits as Docker does: 0.1 s,
# twice as long at each restart up to a minute, 0.1 s again after a run of 10 s or more.
# With --rm it then starts `ctnet rm` in a session of its own (removing the container's process
# group must not take the remover with it).
my $SUPERVISOR = $END_LEFTOVERS . <<'END';
use strict;
my ($child, $nr_sigprocmask, $script, $arch, $spec, $status, $max, $pidfile, $n, @rm) = @ARGV;
my $leftovers = LEFTOVERS;
my $stopping = 0;
$SIG{$_} = sub {
  $stopping = 1;
  open(my $f, '<', $pidfile) or return;
  my $pid = <$f> // '';
  kill($_[0], $pid) if $pid =~ /^\d+$/;
} for qw(TERM INT QUIT HUP USR1 USR2);
# syscall() writes through its arguments and refuses constants: each a variable of its own.
sub sigmask { my @args = ($_[0], pack('Q<', $_[1]), 0, 8); syscall(0 + $nr_sigprocmask, @args); }
sigmask(2, 0);
sub put { open(my $f, '>', $_[0]) or return; print $f "$_[1]\n"; close($f); }
my $got;
do { $got = waitpid($child, 0) } until $got == $child || $got == -1;
my $code = $got == -1 ? 255 : ($? & 127) ? 128 + ($? & 127) : $? >> 8;
end_leftovers($leftovers) if $leftovers ne '';
if (!$stopping && ($max < 0 || ($code != 0 && $n < $max)) && ($n > 0 || -s $pidfile)) {
  put("$status.restarts", ++$n);
  # The PID it names has ended: a TERM meanwhile must not go to a process that took its number.
  put($pidfile, '');
  my $delay = 0.1;
  if (time - $^T < 10 && open(my $f, '<', "$status.delay")) { my $last = <$f> // 0; $delay = $last * 2 if $last > 0; }
  $delay = 60 if $delay > 60;
  put("$status.delay", $delay);
  select(undef, undef, undef, $delay);
  if (!$stopping) {
    sigmask(0, STOPSET);
    exec { $^X } $^X, $script, 'supervise', $arch, $spec, $status, $max, $pidfile, $n, @rm;
  }
}
put($status, $code);
if (($rm[4] // '') ne '') {
  my $pid = fork();
  if (defined $pid && !$pid) {
    require POSIX;
    POSIX::setsid();
    open(STDIN, '<', '/dev/null'); open(STDOUT, '>', '/dev/null'); open(STDERR, '>', '/dev/null');
    @ENV{qw(CTNET_ROOT CTNET_HOST_NETNS)} = @rm[2, 3];
    exec { $rm[0] } @rm[0, 1], 'rm', '-f', $rm[4];
    exit(127);
  }
}
exit($code);
END

# Forks the container's PID 1 into a new PID namespace (or the one @mode names: see pid_namespace),
# where it runs `$pid1`; this process then returns to its own PID namespace for its next children (a
# restart runs `supervise` again, and fork in a namespace whose PID 1 died fails). TERM and INT stay
# blocked here: see supervise.
sub fork_pid1 {
  my ($pid1, @mode) = @_;
  open(my $own_pidns, '<', '/proc/self/ns/pid') or fail("opening /proc/self/ns/pid: $!");
  pid_namespace(@mode);
  my $pid = fork() // fail("fork: $!");
  if (!$pid) {
    $on_failure = undef;
    call('prctl', PR_SET_PDEATHSIG, 9);
    unblock_all_signals();
    $pid1->();
  }
  sys(call('setns', fileno($own_pidns), CLONE_NEWPID), 'returning to the PID namespace of the supervisor');
  close($own_pidns);
  return $pid;
}

# Records what the supervisor gave up with as the container's exit, as its exit would have been.
sub record_failure_in {
  my ($status) = @_;
  $on_failure = sub {
    open(my $f, '>', $status) or return;
    print $f "$_[0]\n";
    close($f);
  };
}

# The start pipes and the spec's descriptors are close-on-exec: the supervisor holds neither.
sub become_supervisor {
  my ($pid, @args) = @_;
  my $leftovers = "'" . (leftovers_list() =~ s/(['\\])/\\$1/gr) . "'";
  exec { $^X } 'ctnet-supervisor', '-e', $SUPERVISOR =~ s/STOPSET/$STOP_SIGSET/r =~ s/LEFTOVERS/$leftovers/r, $pid, $nr->{rt_sigprocmask}, $0, $ARCH, @args;
  fail("starting the supervisor: $!");
}

# A detached container's start: this process becomes its supervisor (the PID ctnet records), the
# parent of its PID 1, instead of /bin/sh above ctnet-init's own process: one program started where
# there were three. PID 1 builds the container as under `init`; this process becomes $SUPERVISOR.
# A restart runs this again in the supervisor's place.
sub supervise {
  my ($spec, $status) = @ARGV;
  # TERM and INT wait until $SUPERVISOR has its handlers: one coming before would end this process,
  # and through PR_SET_PDEATHSIG its PID 1, with nothing recorded.
  block_stop_signals();
  record_failure_in($status);
  take_start_pipes();
  $S = read_spec($spec);
  become_supervisor(fork_pid1(\&container_init, @{ $S->{pid} }), @ARGV);
}

# ---- standby: a supervisor started before its container exists ------------------------------

# `run -d` starts the supervisor first thing, so Perl's start, the compile of this program and the
# fork of PID 1 (~20-30 ms together on a busy 2-CPU machine) happen while ctnet records the container
# and makes its namespace, instead of after. Both then wait: this process for its order on fd 5,
# PID 1 for this process to pass the order on (PID 1 in the PID namespace its arguments name, as the
# spec's `pid` does: see pid_namespace). An order is fields each ending in NUL: the network
# namespace to enter ('': stay in this one, ctnet's), the log that becomes their output, the number
# of environment entries and the entries (the container's environment, which the supervisor has
# from here on, as its restarts do), then `supervise`'s arguments. ctnet closes the pipe without an
# order when it refuses or fails the container: both then end quietly (PID 1 reads the end of its
# pipe, as it would if this process died).
sub slurp { my ($fh) = @_; local $/; my $text = <$fh> // ''; close($fh); return $text; }

sub read_order {
  my ($netns, $log, $nenv, @rest) = split(/\0/, $_[0], -1);
  pop(@rest);
  my @env = splice(@rest, 0, $nenv);
  return { netns => $netns, log => $log, env => \@env, args => \@rest };
}

# Where the order puts a process: its output in the log, in the container's network namespace.
sub enter_order {
  my ($o) = @_;
  open(STDOUT, '>>', $o->{log}) or fail("opening the log $o->{log}: $!");
  open(STDERR, '>&', \*STDOUT) or fail("opening the log $o->{log}: $!");
  return if $o->{netns} eq '';
  open(my $ns, '<', $o->{netns}) or fail("opening network namespace $o->{netns}: $!");
  sys(call('setns', fileno($ns), CLONE_NEWNET), "entering network namespace $o->{netns}");
  close($ns);
}

sub standby {
  take_start_pipes();
  block_stop_signals();
  pipe(my $handoff, my $pass) or fail("pipe: $!");
  my $pid = fork_pid1(sub {
    close($pass);
    close_fd(ORDER_FD); # the parent's to read; not the container's
    my $order = slurp($handoff);
    exit(0) if $order eq '';
    my $o = read_order($order);
    enter_order($o);
    $S = read_spec($o->{args}[0]);
    container_init();
  }, @ARGV);
  close($handoff);
  open(my $orders, '<&=', ORDER_FD) or exit(0);
  my $order = slurp($orders);
  exit(0) if $order eq '';
  {
    # A PID 1 that is gone already is the supervisor's to report, as any PID 1 that ends.
    local $SIG{PIPE} = 'IGNORE';
    for (my $done = 0; $done < length($order); ) { $done += syswrite($pass, $order, length($order) - $done, $done) // last; }
    close($pass);
  }
  my $o = read_order($order);
  record_failure_in($o->{args}[1]);
  enter_order($o);
  %ENV = map { split(/=/, $_, 2) } @{ $o->{env} };
  $S = read_spec($o->{args}[0]);
  become_supervisor($pid, @{ $o->{args} });
}

if ($MODE eq 'init') { init(); }
elsif ($MODE eq 'supervise') { supervise(); }
elsif ($MODE eq 'standby') { standby(); }
elsif ($MODE eq 'enter') { enter(); }
else { fail("unknown mode $MODE"); }
