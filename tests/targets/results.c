/* Syscalls whose results the program prints, so a test can check that the
 * log recorded exactly what the program saw: in threads, in a child, and
 * across a signal that interrupts a sleep. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
    (void)arg;
    printf("gettid=%ld\n", syscall(SYS_gettid));
    return NULL;
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("getppid=%ld\n", syscall(SYS_getppid));
    long r = syscall(SYS_openat, AT_FDCWD, "/nonexistent/results", O_RDONLY);
    printf("openat=%ld\n", r < 0 ? -(long)errno : r);
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    printf("write=%ld\n", syscall(SYS_write, fds[1], "hello", 5));
    char buf[16];
    printf("read=%ld\n", syscall(SYS_read, fds[0], buf, sizeof buf));
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    pid_t child = fork();
    if (child == 0) {
        printf("child getppid=%ld\n", syscall(SYS_getppid));
        _exit(7);
    }
    int status;
    waitpid(child, &status, 0);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    r = syscall(SYS_pause);
    printf("pause=%ld\n", r < 0 ? -(long)errno : r);
    printf("getpid=%ld\n", syscall(SYS_getpid));
    return WEXITSTATUS(status);
}
