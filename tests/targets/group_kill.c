/* Signals its own process group, as a shell script's `kill 0` does, after a
 * few syscalls the log must keep: argv[1] is the signal number. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int sig = atoi(argv[1]);
	for (int i = 0; i < 5; i++)
		getppid();
	kill(0, sig);
	printf("survived\n");
	return 3;
}
