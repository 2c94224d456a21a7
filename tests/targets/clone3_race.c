/* Races CLONE_UNTRACED into clone3's flags: a second thread flips the bit
 * while the main thread calls clone3, so that a tracer may read the flags
 * without it and the kernel then run the call with it. Repeats until
 * KILLED children died of SIGKILL, or ATTEMPTS calls were made.
 *
 * Each child calls exit_group(7) until that works: a traced child exits
 * at once, and so does every child natively; an untraced one under the
 * jail gets ENOSYS from the filter for every traced call, so it can only
 * spin until the jail kills it.
 *
 * Prints "traced T refused R killed K other O", then one "killed PID" per
 * child that died of SIGKILL.
 * Usage: clone3_race [ATTEMPTS [KILLED]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static struct clone_args args = { .exit_signal = SIGCHLD };
static volatile int done;

static void *flip(void *unused)
{
	(void)unused;
	while (!done)
		__atomic_xor_fetch(&args.flags, CLONE_UNTRACED, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	int attempts = argc > 1 ? atoi(argv[1]) : 2000;
	int wanted = argc > 2 ? atoi(argv[2]) : 3;
	int traced = 0, refused = 0, other = 0, nkilled = 0;
	long killed[64];
	pthread_t flipper;

	pthread_create(&flipper, NULL, flip, NULL);
	for (int i = 0; i < attempts && nkilled < wanted; i++) {
		long pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid == 0)
			for (;;)
				syscall(SYS_exit_group, 7);
		if (pid < 0) {
			if (errno == EPERM)
				refused++;
			else
				other++;
			continue;
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			other++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 7)
			traced++;
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && nkilled < 64)
			killed[nkilled++] = pid;
		else
			other++;
	}
	done = 1;
	pthread_join(flipper, NULL);
	printf("traced %d refused %d killed %d other %d\n", traced, refused, nkilled, other);
	for (int i = 0; i < nkilled; i++)
		printf("killed %ld\n", killed[i]);
	return 0;
}
