/* Signal re-injection: every signal the tracer sees must reach the target.
 * Counts SIGUSR1 raised by itself and sent by a child (one at a time, each
 * acknowledged, so none coalesce), a raised SIGTRAP with a handler, a
 * SIGUSR2 that is ignored and a blocked SIGUSR1 that stays pending. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, trap;

static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_trap(int sig) { (void)sig; trap++; }

int main(void)
{
	struct sigaction sa;
	sigset_t block, old;
	int ack[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);

	for (int i = 0; i < 3; i++)
		raise(SIGUSR1);
	printf("self SIGUSR1: %d\n", usr1);

	raise(SIGTRAP);
	raise(SIGTRAP);
	printf("SIGTRAP handled: %d\n", trap);

	raise(SIGUSR2);
	printf("SIGUSR2 ignored, still alive\n");

	if (pipe(ack))
		return 2;
	usr1 = 0;
	/* Blocked outside sigsuspend, so no signal slips in before we wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTRAP);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(stdout);
	pid_t parent = getpid(), child = fork();
	if (child == 0) {
		char c;
		for (int i = 0; i < 5; i++) {
			kill(parent, SIGUSR1);
			read(ack[0], &c, 1);
		}
		kill(parent, SIGTRAP);
		_exit(0);
	}
	for (int i = 0; i < 5; i++) {
		while (usr1 <= i)
			sigsuspend(&old);
		write(ack[1], "a", 1);
	}
	while (trap < 3)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	waitpid(child, NULL, 0);
	printf("SIGUSR1 from child: %d, SIGTRAP total: %d\n", usr1, trap);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	raise(SIGUSR1);
	sigset_t pending;
	sigpending(&pending);
	printf("blocked SIGUSR1 pending %d, handled %d\n", sigismember(&pending, SIGUSR1), usr1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("after unblock handled %d\n", usr1);
	return 0;
}
