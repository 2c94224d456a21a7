/* Children that exit at once: N forks (20 by default) whose child calls
 * _exit(i % 256) at once; the parent sums the statuses.
 *
 * With a second argument, a child of ours makes them: a task the tracer
 * did not start, whose children's stops the kernel reports before its own
 * fork events. A thread of the maker spins meanwhile, so the maker is
 * often preempted between making a child and stopping at the event: the
 * child may then live and die before the event is seen.
 * Usage: quick_children [N [nested]] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int forking = 1;

static void *spin(void *unused)
{
	while (forking)
		;
	return unused;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	long sum = 0;
	pthread_t spinner;

	if (argc > 2) {
		pid_t maker = fork();
		if (maker > 0) {
			int status;
			if (waitpid(maker, &status, 0) != maker || !WIFEXITED(status))
				return 4;
			return WEXITSTATUS(status);
		}
		pthread_create(&spinner, NULL, spin, NULL);
	}
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(i % 256);
		if (c < 0)
			return 2;
	}
	if (argc > 2) {
		forking = 0;
		pthread_join(spinner, NULL);
	}
	for (int i = 0; i < n; i++) {
		int status;
		if (wait(&status) < 0)
			return 3;
		sum += WEXITSTATUS(status);
	}
	printf("sum of statuses %ld\n", sum);
	return 0;
}
