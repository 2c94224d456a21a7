/* A path behind a userfaultfd page: the kernel fills it only when the
 * program's own handler thread answers. Reading it from the tracer must
 * not wait for that thread, which waits for the tracer (a deadlock). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long uffd;
static char *page;

static void *handler(void *arg) {
	struct uffd_msg msg;
	if (read(uffd, &msg, sizeof msg) != sizeof msg) { perror("read uffd"); exit(3); }
	static char src[4096] __attribute__((aligned(4096)));
	strcpy(src, "/etc/hostname");
	struct uffdio_copy copy = {.dst = (unsigned long)page, .src = (unsigned long)src, .len = 4096};
	if (ioctl(uffd, UFFDIO_COPY, &copy)) { perror("UFFDIO_COPY"); exit(4); }
	return NULL;
}

int main(void) {
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) { perror("userfaultfd"); return 1; }
	struct uffdio_api api = {.api = UFFD_API};
	if (ioctl(uffd, UFFDIO_API, &api)) { perror("api"); return 1; }
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register reg = {.range = {(unsigned long)page, 4096}, .mode = UFFDIO_REGISTER_MODE_MISSING};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) { perror("register"); return 1; }
	pthread_t th;
	pthread_create(&th, NULL, handler, NULL);
	int fd = open(page, O_RDONLY);
	printf("open = %d\n", fd);
	pthread_join(th, NULL);
	return fd >= 0 ? 0 : 2;
}
