/* In a pid namespace of its own, a process may carry the number one of the
 * jail's processes has outside it: calls naming that number mean that
 * process, not the jail's, and must work as without the jail. The jail's
 * pid is our parent's; a new namespace's init sets ns_last_pid so that its
 * next child gets that number, then signals it, takes a pidfd of it and puts
 * it in a group of its own. kill(-1) there reaches the namespace only.
 * Needs root (CLONE_NEWPID). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, long ret) {
	printf("%s %s\n", what, ret < 0 ? strerror(errno) : "ok");
}

static int init_main(pid_t wanted) {
	char text[32];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	int len = snprintf(text, sizeof text, "%d", wanted - 1);
	if (fd < 0 || write(fd, text, len) != len) { perror("ns_last_pid"); return 2; }
	close(fd);
	int ready[2];
	if (pipe(ready)) return 2;
	pid_t child = fork();
	if (child == 0) {
		char c;
		read(ready[0], &c, 1);  /* until the parent is done with us */
		_exit(0);
	}
	printf("child has the jail's number: %s\n", child == wanted ? "yes" : "no");
	report("kill", kill(child, 0));
	report("tgkill", syscall(SYS_tgkill, child, child, 0));
	long pidfd = syscall(SYS_pidfd_open, child, 0);
	report("pidfd_open", pidfd);
	report("setpgid", setpgid(child, child));
	report("kill(-1)", kill(-1, 0));
	write(ready[1], "x", 1);
	int status;
	waitpid(child, &status, 0);
	fflush(stdout);
	return 0;
}

int main(void) {
	pid_t jail = getppid();
	fflush(stdout);
	if (unshare(CLONE_NEWPID)) { perror("unshare"); return 2; }
	pid_t init = fork();
	if (init == 0)
		_exit(init_main(jail));
	int status;
	waitpid(init, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}
