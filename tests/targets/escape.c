/* Attempts to get out from under the jail, one per mode (argv[1]); each
 * prints "MODE: ret R errno E" plus what it observed, so a test can compare
 * with a native run. argv[2] is a path for the modes that create one. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define X32_BIT 0x40000000L
#define I386_GETPID 20
#define I386_MKDIR 39

static const char *path = "escape-dir";

static void report(const char *mode, long ret)
{
	printf("%s: ret %ld errno %s\n", mode, ret, ret == -1 ? strerrorname_np(errno) : "OK");
}

/* A 32-bit system call; returns -errno like the kernel does. */
static long int80(long nr, long a, long b)
{
	long ret;
	asm volatile("int $0x80" : "=a"(ret) : "0"(nr), "b"(a), "c"(b) : "memory");
	return ret;
}

static void int80_getpid(void)
{
	long r = int80(I386_GETPID, 0, 0);
	printf("int80-getpid: is-pid %d error %ld\n", r == (long)getpid(), r < 0 ? r : 0);
}

static void int80_mkdir(void)
{
	/* i386 pointers are 32 bits: the path must sit below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (low == MAP_FAILED)
		exit(3);
	strcpy(low, path);
	printf("int80-mkdir: raw %ld\n", int80(I386_MKDIR, (long)(uintptr_t)low, 0777));
}

static void x32_getpid(void) { report("x32-getpid", syscall(X32_BIT | SYS_getpid)); }
static void x32_mkdir(void) { report("x32-mkdir", syscall(X32_BIT | SYS_mkdir, path, 0777)); }
static void highbit_mkdir(void) { report("highbit-mkdir", syscall(0xdead00000000L | SYS_mkdir, path, 0777)); }
static void unknown_nr(void) { report("unknown-1000", syscall(1000L)); }

static void io_uring(void)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	long fd = syscall(SYS_io_uring_setup, 4, &p);
	report("io_uring_setup", fd < 0 ? fd : 0);
}

/* Without a ring these fail natively with EBADF: the jail must say ENOSYS. */
static void io_uring_ops(void)
{
	report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
}

/* Reports the clone result; a child that did get created exits at once. */
static void report_child(const char *mode, long r)
{
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid(r, NULL, 0);
	report(mode, r > 0 ? 0 : r);
}

static void untraced_clone(void)
{
	fflush(stdout);
	report_child("clone-untraced", syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0));
}

static void untraced_clone3(void)
{
	struct clone_args args;
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_UNTRACED;
	args.exit_signal = SIGCHLD;
	fflush(stdout);
	report_child("clone3-untraced", syscall(SYS_clone3, &args, sizeof(args)));
}

static void traceme(void) { report("ptrace-traceme", ptrace(PTRACE_TRACEME, 0, 0, 0)); }

/* A child that sleeps in read until its parent is done with it, then
 * prints the value of `secret` it sees. */
static volatile long secret = 1;
static int child_pipe[2];

static pid_t sleeper(void)
{
	if (pipe(child_pipe))
		exit(3);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char ch;
		read(child_pipe[0], &ch, 1);
		printf("child sees secret %ld\n", secret);
		fflush(stdout);
		_exit(0);
	}
	return c;
}

static void release(pid_t c)
{
	write(child_pipe[1], "g", 1);
	waitpid(c, NULL, 0);
}

static void ptrace_child(void)
{
	pid_t c = sleeper();
	long r = ptrace(PTRACE_ATTACH, c, 0, 0);
	report("ptrace-attach", r);
	if (r == 0) {
		waitpid(c, NULL, __WALL);
		ptrace(PTRACE_DETACH, c, 0, 0);
	}
	r = ptrace(PTRACE_SEIZE, c, 0, 0);
	report("ptrace-seize", r);
	if (r == 0) {
		ptrace(PTRACE_INTERRUPT, c, 0, 0);
		waitpid(c, NULL, __WALL);
		ptrace(PTRACE_DETACH, c, 0, 0);
	}
	release(c);
}

static void vm_write(void)
{
	pid_t c = sleeper();
	long value = 2;
	struct iovec local = { &value, sizeof(value) };
	struct iovec remote = { (void *)&secret, sizeof(secret) };
	long r = process_vm_writev(c, &local, 1, &remote, 1, 0);
	report("process_vm_writev", r < 0 ? r : 0);
	release(c);
}

static void seccomp_listener(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &allow };
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	report("seccomp-new-listener", r < 0 ? r : 0);
}

static const struct {
	const char *name;
	void (*run)(void);
} modes[] = {
	{ "int80-getpid", int80_getpid },
	{ "int80-mkdir", int80_mkdir },
	{ "x32-getpid", x32_getpid },
	{ "x32-mkdir", x32_mkdir },
	{ "highbit-mkdir", highbit_mkdir },
	{ "unknown", unknown_nr },
	{ "io_uring", io_uring },
	{ "io_uring-ops", io_uring_ops },
	{ "clone-untraced", untraced_clone },
	{ "clone3-untraced", untraced_clone3 },
	{ "ptrace-traceme", traceme },
	{ "ptrace-child", ptrace_child },
	{ "process_vm_writev", vm_write },
	{ "seccomp-listener", seccomp_listener },
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (argc > 2)
		path = argv[2];
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[1], modes[i].name) == 0) {
			modes[i].run();
			printf("still running\n");
			return 0;
		}
	}
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
