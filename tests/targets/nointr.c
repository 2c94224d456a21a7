/* getppid in a loop while SIGALRM (a handler without SA_RESTART) arrives
 * every 500 µs. getppid never sleeps, so natively no call fails with EINTR;
 * nor may one in the jail, however long the tracer holds it at its stop.
 * (A seccomp user-notification supervisor gets this wrong: its waiting call
 * is interrupted and fails with EINTR.) */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) { (void)sig; alarms++; }

int main(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	long calls = 0, eintr = 0, other = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (alarms < 200) {
		calls++;
		if (syscall(SYS_getppid) < 0) {
			if (errno == EINTR)
				eintr++;
			else
				other++;
		}
	}
	/* More may come before the timer is off: the count is only a floor. */
	setitimer(ITIMER_REAL, &(struct itimerval){ { 0, 0 }, { 0, 0 } }, NULL);
	printf("alarms %s, EINTR %ld, other errors %ld\n", alarms >= 200 ? "200+" : "too few", eintr, other);
	return calls > 0 ? 0 : 1;
}
