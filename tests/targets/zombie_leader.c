/* The main thread leaves with pthread_exit while another thread keeps
 * running and finally exits the process with status 3 (a zombie leader). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *worker(void *arg)
{
	(void)arg;
	usleep(200000);
	printf("worker alone after leader exit\n");
	fflush(stdout);
	exit(3);
}

int main(void)
{
	pthread_t th;

	if (pthread_create(&th, NULL, worker, NULL))
		return 2;
	pthread_exit(NULL);
}
