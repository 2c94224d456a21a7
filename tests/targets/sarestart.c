/* A read on a pipe interrupted by SIGALRM: with SA_RESTART the read goes
 * on and returns the data written later; without it the read fails EINTR. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) { (void)sig; alarms++; }

static void trial(int flags, const char *name)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 100 * 1000 } };
	int p[2];
	char buf[16] = "";

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(p))
		return;
	alarms = 0;
	fflush(stdout);
	pid_t writer = fork();
	if (writer == 0) {
		usleep(400 * 1000);
		write(p[1], "hello", 5);
		_exit(0);
	}
	setitimer(ITIMER_REAL, &it, NULL);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	int err = errno;
	printf("%s: read %zd %s data '%s' alarms %d\n", name, n, n < 0 ? strerrorname_np(err) : "OK",
	       n > 0 ? buf : "", alarms);
	waitpid(writer, NULL, 0);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	trial(SA_RESTART, "SA_RESTART");
	trial(0, "no SA_RESTART");
	return 0;
}
