/* exec from a non-leader thread: the new image keeps the process id (the
 * kernel moves the exec'ing thread into the leader's place). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pidarg[32];

static void *worker(void *arg)
{
	char **argv = arg;
	execl("/proc/self/exe", argv[0], "after", pidarg, (char *)NULL);
	perror("execl");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "after") == 0) {
		printf("after exec: same pid %d\n", atol(argv[2]) == (long)getpid());
		return 0;
	}
	pthread_t th;
	snprintf(pidarg, sizeof(pidarg), "%ld", (long)getpid());
	printf("before exec\n");
	fflush(stdout);
	if (pthread_create(&th, NULL, worker, argv))
		return 2;
	for (;;)
		pause();
}
