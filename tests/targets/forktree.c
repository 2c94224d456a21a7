/* Test5/Test6: three generations (parent, child, grandchild), each calling
 * getpid, getuid and mkdir, printing "LEVEL pid ppid mkdir-result". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void work(int level)
{
	char path[64];
	long pid = syscall(SYS_getpid);
	long uid = syscall(SYS_getuid);

	snprintf(path, sizeof(path), "dir-level%d", level);
	int r = mkdir(path, 0777);
	printf("level %d pid %ld ppid %d uid %ld mkdir %s\n", level, pid, getppid(), uid,
	       r ? strerrorname_np(errno) : "OK");
	fflush(stdout);
}

int main(void)
{
	for (int level = 0; level < 3; level++) {
		work(level);
		if (level == 2)
			break;
		pid_t child = fork();
		if (child < 0)
			return 2;
		if (child > 0) {
			int status;
			waitpid(child, &status, 0);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
		}
	}
	return 0;
}
