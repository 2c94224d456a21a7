/* Test3 and the SIGINT test: N calls to getpid with a pause between them.
 * Usage: getpid_loop N DELAY_MS [OUTFILE]. One line per call, flushed at
 * once, so a driver can follow the progress while the loop runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;
	long delay_ms = argc > 2 ? atol(argv[2]) : 100;
	FILE *out = argc > 3 ? fopen(argv[3], "w") : stdout;

	if (!out)
		return 2;
	for (long i = 0; i < n; i++) {
		long r = syscall(SYS_getpid);
		fprintf(out, "%ld %ld %s\n", i, r, r < 0 ? strerrorname_np(errno) : "OK");
		fflush(out);
		usleep(delay_ms * 1000);
	}
	return 0;
}
