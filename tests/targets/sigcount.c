/* Counts SIGINTs and SIGTERMs for about a second, then prints how many arrived.
 * Prints "ready" once its handler is in place. */
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t count;

static void on_int(int sig) { (void)sig; count++; }

int main(void)
{
    struct sigaction sa = {.sa_handler = on_int};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 20; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("count=%d\n", (int)count);
    return 0;
}
