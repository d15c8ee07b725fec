import type { SeccompProfile } from './seccomp-schema.js';

/**
 * ctnet's default seccomp profile: Docker's default (moby profiles/seccomp/default.json) in its
 * own format. An allow-list: every other syscall fails with EPERM. Syscalls that only a capability
 * makes safe are allowed only when the container holds that capability (`includes.caps`), and
 * clone may not create namespaces without CAP_SYS_ADMIN.
 */

const ALWAYS = `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 clock_adjtime
clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl
fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64
fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid
getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage
getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch
inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register io_uring_setup ipc
kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen
listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create
memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify
mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
msgrcv msgsnd msync munlock munlockall munmap nanosleep newfstatat _newselect open openat openat2 pause pidfd_open
pidfd_send_signal pipe pipe2 poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease
pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid
setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socket
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo
tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill
truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice
wait4 waitid waitpid write writev`;

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);
const withCap = (cap: string, names: string): SeccompProfile['syscalls'] & object =>
  [{ names: words(names), action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] } }];
const onArches = (arches: string[], names: string): SeccompProfile['syscalls'] & object =>
  [{ names: words(names), action: 'SCMP_ACT_ALLOW', includes: { arches } }];
/** personality(2) only with the personalities Docker allows: Linux, PER_LINUX32, UNAME26 variants, query. */
const PERSONALITIES = [0, 8, 131072, 131080, 4294967295];
/** Namespace flags of clone(2): CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS = 2114060288;
const ENOSYS = 38;

let built: SeccompProfile | undefined;

/**
 * Built at first use: the profile is ~400 strings and the objects around them (~60 KB every command
 * made at its start), read only when a container's filter is not in ctnet's cache yet.
 */
export const defaultSeccompProfile = (): SeccompProfile => (built ??= {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: null },
  ],
  syscalls: [
    { names: words(ALWAYS), action: 'SCMP_ACT_ALLOW' },
    { names: ['process_vm_readv', 'process_vm_writev', 'ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    ...PERSONALITIES.map((value) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 0, value, op: 'SCMP_CMP_EQ' as const }] })),
    ...onArches(['ppc64le'], 'sync_file_range2 swapcontext'),
    ...onArches(['arm', 'arm64'], 'arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'),
    ...onArches(['amd64', 'x32'], 'arch_prctl'),
    ...onArches(['amd64', 'x32', 'x86'], 'modify_ldt'),
    ...onArches(['s390', 's390x'], 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr'),
    ...onArches(['riscv64'], 'riscv_flush_icache'),
    ...withCap('CAP_DAC_READ_SEARCH', 'open_by_handle_at'),
    ...withCap('CAP_SYS_ADMIN', `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
      mount_setattr move_mount name_to_handle_at open_tree perf_event_open quotactl quotactl_fd setdomainname
      sethostname setns syslog umount umount2 unshare`),
    {
      names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    {
      names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    // clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes libc fall back to clone.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    ...withCap('CAP_SYS_BOOT', 'reboot'),
    ...withCap('CAP_SYS_CHROOT', 'chroot'),
    ...withCap('CAP_SYS_MODULE', 'delete_module init_module finit_module'),
    ...withCap('CAP_SYS_PACCT', 'acct'),
    ...withCap('CAP_SYS_PTRACE', 'kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'),
    ...withCap('CAP_SYS_RAWIO', 'iopl ioperm'),
    ...withCap('CAP_SYS_TIME', 'settimeofday stime clock_settime clock_settime64'),
    ...withCap('CAP_SYS_TTY_CONFIG', 'vhangup'),
    ...withCap('CAP_SYS_NICE', 'get_mempolicy mbind set_mempolicy set_mempolicy_home_node'),
    ...withCap('CAP_SYSLOG', 'syslog'),
    ...withCap('CAP_BPF', 'bpf'),
    ...withCap('CAP_PERFMON', 'perf_event_open'),
  ],
});
