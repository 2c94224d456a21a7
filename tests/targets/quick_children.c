/* Children that exit at once: 20 forks whose child calls _exit(i) at once;
 * the parent sums the statuses. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int sum = 0;

	for (int i = 0; i < 20; i++) {
		pid_t c = fork();
		if (c == 0)
			_exit(i);
		if (c < 0)
			return 2;
	}
	for (int i = 0; i < 20; i++) {
		int status;
		if (wait(&status) < 0)
			return 3;
		sum += WEXITSTATUS(status);
	}
	printf("sum of statuses %d\n", sum);
	return 0;
}
