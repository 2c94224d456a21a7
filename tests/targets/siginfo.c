/* One signal of each siginfo layout, for comparing the jail's signal lines
 * with strace's: sent by kill, tgkill and sigqueue; SIGALRM of an interval
 * timer (the kernel's) and of a POSIX timer; SIGCHLD of a child that exits,
 * and of one killed, stopped and continued; SIGPIPE; SIGSEGV at address
 * 0x10; SIGIO of a pipe with data; SIGTRAP of int3; SIGSYS of a seccomp
 * filter's RET_TRAP. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf back;

static void ignore(int sig) { (void)sig; }
static void leave(int sig) { (void)sig; siglongjmp(back, 1); }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ignore;
	for (int sig = 1; sig < 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	kill(getpid(), SIGUSR1);
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 42 });
	struct itimerval alarm_soon = { { 0, 0 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &alarm_soon, NULL);
	pause();
	timer_t timer;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 2,
			       .sigev_value.sival_int = 7 };
	struct itimerspec soon = { { 0, 0 }, { 0, 1000000 } };
	timer_create(CLOCK_MONOTONIC, &ev, &timer);
	timer_settime(timer, 0, &soon, NULL);
	pause();
	pid_t child = fork();
	if (child == 0)
		_exit(3);
	waitpid(child, NULL, 0);
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	int p[2];
	if (pipe(p) == 0) {
		close(p[0]);
		(void)!write(p[1], "x", 1);
		close(p[1]);
	}
	sa.sa_handler = leave;
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(back, 1))
		*(volatile int *)16 = 1;
	if (pipe(p) == 0) {
		fcntl(p[0], F_SETOWN, getpid());
		fcntl(p[0], F_SETFL, O_ASYNC);
		(void)!write(p[1], "y", 1);
	}
	child = fork();
	if (child == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	waitpid(child, NULL, WUNTRACED);
	kill(child, SIGCONT);
	waitpid(child, NULL, 0);
	__asm__ volatile("int3");
	struct sock_filter trap_getppid[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | 5),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { 4, trap_getppid };
	prctl(PR_SET_NO_NEW_PRIVS, 1);
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
	syscall(SYS_getppid);
	printf("done\n");
	return 0;
}
