/* A path behind a userfaultfd page: the kernel fills it only when the
 * program's own handler thread answers. Reading it from the tracer must
 * not wait for that thread, which waits for the tracer (a deadlock).
 * With an argument N, N threads open a file first and wait, and a thread
 * made after them opens the path: the jail holds a memory file per task
 * up to a limit, and reads the newest tasks' memory another way.
 * With a second argument "clone3", the page holds clone3's struct
 * clone_args instead, and the call's result is printed: the jail cannot
 * check flags it cannot read, and refuses them (EFAULT).
 * Usage: uffd_path [N [clone3]] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <errno.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long uffd;
static int clone3_mode;
static char *page;
static pthread_barrier_t opened, finish;

static void *worker(void *arg) {
	close(open("/dev/null", O_RDONLY));
	pthread_barrier_wait(&opened);
	pthread_barrier_wait(&finish);
	return NULL;
}

static void *opener(void *arg) {
	if (!clone3_mode) {
		*(int *)arg = open(page, O_RDONLY);
		return NULL;
	}
	long pid = syscall(SYS_clone3, page, sizeof(struct clone_args));
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	*(int *)arg = pid > 0 ? 0 : -errno;
	return NULL;
}

static void *handler(void *arg) {
	struct uffd_msg msg;
	if (read(uffd, &msg, sizeof msg) != sizeof msg) { perror("read uffd"); exit(3); }
	static char src[4096] __attribute__((aligned(4096)));
	if (clone3_mode)
		((struct clone_args *)src)->exit_signal = SIGCHLD;
	else
		strcpy(src, "/etc/hostname");
	struct uffdio_copy copy = {.dst = (unsigned long)page, .src = (unsigned long)src, .len = 4096};
	if (ioctl(uffd, UFFDIO_COPY, &copy)) { perror("UFFDIO_COPY"); exit(4); }
	return NULL;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 0;
	clone3_mode = argc > 2 && strcmp(argv[2], "clone3") == 0;
	pthread_t workers[n > 0 ? n : 1];
	pthread_barrier_init(&opened, NULL, n + 1);
	pthread_barrier_init(&finish, NULL, n + 1);
	for (int i = 0; i < n; i++)
		pthread_create(&workers[i], NULL, worker, NULL);
	pthread_barrier_wait(&opened);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) { perror("userfaultfd"); return 1; }
	struct uffdio_api api = {.api = UFFD_API};
	if (ioctl(uffd, UFFDIO_API, &api)) { perror("api"); return 1; }
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {.range = {(unsigned long)page, 4096}, .mode = UFFDIO_REGISTER_MODE_MISSING};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) { perror("register"); return 1; }
	pthread_t th, op;
	pthread_create(&th, NULL, handler, NULL);
	int fd = -1;
	pthread_create(&op, NULL, opener, &fd);
	pthread_join(op, NULL);
	(void)*(volatile char *)page;  /* a call refused unread left the handler waiting for its fault */
	printf("%s = %d\n", clone3_mode ? "clone3" : "open", fd);
	pthread_join(th, NULL);
	pthread_barrier_wait(&finish);
	for (int i = 0; i < n; i++)
		pthread_join(workers[i], NULL);
	return fd >= 0 || clone3_mode ? 0 : 2;
}
