/* Makes its stderr non-blocking (the jail's, too: one open file
 * description), then calls getppid N times (argv[1]): each a log line that
 * the jail writes to that stderr. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 3000;

	if (fcntl(2, F_SETFL, fcntl(2, F_GETFL) | O_NONBLOCK) != 0)
		return 1;
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}
