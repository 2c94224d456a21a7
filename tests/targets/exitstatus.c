/* Exit statuses: "exit42" -> 42, "segv" -> killed by SIGSEGV, "kill9" ->
 * killed by SIGKILL, "abort" -> killed by SIGABRT. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit42";

	if (strcmp(mode, "segv") == 0)
		*(volatile int *)16 = 1;
	else if (strcmp(mode, "kill9") == 0)
		kill(getpid(), SIGKILL);
	else if (strcmp(mode, "abort") == 0)
		abort();
	return 42;
}
