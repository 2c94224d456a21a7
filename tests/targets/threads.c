/* Four pthreads, each making syscalls of its own; results are joined and
 * printed by the main thread so the output does not depend on scheduling. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 4

struct result {
	int index;
	long pid, tid;
	long bytes;
};

static void *worker(void *arg)
{
	struct result *res = arg;
	char buf[64];

	res->pid = syscall(SYS_getpid);
	res->tid = syscall(SYS_gettid);
	int fd = open("/proc/self/stat", O_RDONLY);
	res->bytes = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	close(fd);
	usleep(20000 * (res->index + 1));
	return res;
}

int main(void)
{
	pthread_t th[NTHREADS];
	struct result res[NTHREADS];
	long pid = syscall(SYS_getpid);

	for (int i = 0; i < NTHREADS; i++) {
		res[i].index = i;
		if (pthread_create(&th[i], NULL, worker, &res[i]))
			return 2;
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		printf("thread %d same-pid %d own-tid %d read %ld\n", i, res[i].pid == pid,
		       res[i].tid != pid, res[i].bytes);
	}
	return 0;
}
