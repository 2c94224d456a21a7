/* vfork + exec: the child execs this same program with "child", which
 * prints and exits 5; the parent reports the status it waited for. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0) {
		printf("child after exec\n");
		return 5;
	}
	fflush(stdout);
	pid_t c = vfork();
	if (c == 0) {
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(127);
	}
	if (c < 0)
		return 2;
	int status;
	waitpid(c, &status, 0);
	printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
