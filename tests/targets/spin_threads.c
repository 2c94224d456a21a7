/* Five threads making syscalls as fast as they can, forever, so that a
 * SIGKILL from outside lands while some are stopped inside the jail.
 * Writes its pid to FILE (argv[1]) once all threads run. */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *spin(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_getppid);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;

	for (int i = 0; i < 4; i++)
		if (pthread_create(&th, NULL, spin, NULL))
			return 2;
	FILE *f = fopen(argc > 1 ? argv[1] : "spin.pid", "w");
	if (!f)
		return 3;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	spin(NULL);
}
