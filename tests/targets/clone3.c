/* Raw clone3: a fork-like child process, then a thread (CLONE_VM |
 * CLONE_THREAD ...) on its own stack that runs a function and exits. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile long thread_pid, thread_tid;
static volatile int thread_tid_word = 1;	/* cleared by the kernel at thread exit */
static char thread_stack[64 * 1024] __attribute__((aligned(16)));

static void thread_body(void)
{
	thread_pid = syscall(SYS_getpid);
	thread_tid = syscall(SYS_gettid);
}

/* clone3 for a thread: the child starts on an empty stack, so it must not
 * return through the libc wrapper; it calls thread_body and then SYS_exit. */
static long clone3_thread(struct clone_args *args, void (*fn)(void))
{
	long ret;
	asm volatile("syscall\n\t"
		     "test %%rax, %%rax\n\t"
		     "jnz 1f\n\t"
		     "call *%%rbx\n\t"
		     "mov $60, %%eax\n\t"
		     "xor %%edi, %%edi\n\t"
		     "syscall\n\t"
		     "hlt\n"
		     "1:"
		     : "=a"(ret)
		     : "0"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "b"(fn)
		     : "rcx", "r11", "memory");
	return ret;
}

int main(void)
{
	struct clone_args args;
	long parent = syscall(SYS_getpid);

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	fflush(stdout);
	long c = syscall(SYS_clone3, &args, sizeof(args));
	if (c == 0) {
		printf("process child: new pid %d, parent matches %d\n",
		       (long)getpid() != parent, (long)getppid() == parent);
		fflush(stdout);
		_exit(7);
	}
	if (c < 0) {
		perror("clone3");
		return 2;
	}
	int status;
	waitpid(c, &status, 0);
	printf("process child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		     CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
	args.child_tid = (uintptr_t)&thread_tid_word;
	args.stack = (uintptr_t)thread_stack;
	args.stack_size = sizeof(thread_stack);
	long t = clone3_thread(&args, thread_body);
	if (t < 0) {
		printf("thread clone3 failed %ld\n", t);
		return 3;
	}
	while (thread_tid_word != 0)
		syscall(SYS_futex, &thread_tid_word, FUTEX_WAIT, 1, NULL, NULL, 0);
	printf("thread: same pid %d, tid matches %d\n", thread_pid == parent, thread_tid == t);
	return 0;
}
