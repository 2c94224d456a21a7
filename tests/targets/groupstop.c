/* Job control: a child (in its own process group so SIGTSTP is not
 * discarded as orphaned) stops itself with SIGSTOP and SIGTSTP, then is
 * stopped by its parent while blocked in read and in nanosleep; the parent
 * sees each stop with WUNTRACED, resumes it with SIGCONT, sees it continue
 * with WCONTINUED and only then hands it a byte to go on (so the child never
 * stops again before its parent has seen it continue). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int to_child[2], to_parent[2];

static void expect_stop(pid_t child, const char *what, char token)
{
	int status;
	pid_t r = waitpid(child, &status, WUNTRACED);
	printf("parent: %s -> %s\n", what,
	       r == child && WIFSTOPPED(status) ? sigabbrev_np(WSTOPSIG(status)) : "not stopped");
	fflush(stdout);
	kill(child, SIGCONT);
	r = waitpid(child, &status, WCONTINUED);
	printf("parent: continued %d\n", r == child && WIFCONTINUED(status));
	fflush(stdout);
	write(to_child[1], &token, 1);
}

static void child(void)
{
	char c;

	setpgid(0, 0);
	raise(SIGSTOP);
	printf("child: after SIGSTOP\n");
	fflush(stdout);
	read(to_child[0], &c, 1);
	raise(SIGTSTP);
	printf("child: after SIGTSTP\n");
	fflush(stdout);
	read(to_child[0], &c, 1);
	ssize_t n = read(to_child[0], &c, 1);	/* stopped and resumed while blocked here */
	printf("child: read %zd '%c'\n", n, n == 1 ? c : '?');
	fflush(stdout);
	write(to_parent[1], "s", 1);
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	int r = nanosleep(&ts, NULL);	/* restarted after a stop */
	printf("child: nanosleep %d\n", r);
}

int main(void)
{
	char c;

	if (pipe(to_child) || pipe(to_parent))
		return 2;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		child();
		return 4;
	}
	setpgid(pid, pid);
	expect_stop(pid, "raise(SIGSTOP)", 'a');
	expect_stop(pid, "raise(SIGTSTP)", 'b');
	usleep(100000);
	kill(pid, SIGSTOP);
	expect_stop(pid, "kill(SIGSTOP) during read", 'x');
	read(to_parent[0], &c, 1);
	usleep(100000);
	kill(pid, SIGTSTP);
	expect_stop(pid, "kill(SIGTSTP) during nanosleep", 'y');
	int status;
	waitpid(pid, &status, 0);
	printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
