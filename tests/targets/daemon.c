/* A daemonized grandchild: double fork + setsid; the grandchild writes its
 * pid to FILE (argv[1]) after its parent and grandparent have exited. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "daemon.out";
	pid_t c = fork();
	if (c == 0) {
		setsid();
		if (fork() == 0) {
			usleep(500 * 1000);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dprintf(fd, "%d\n", (int)getpid());
			close(fd);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("parent done\n");
	return 0;
}
