/* Threads that each make a long run of syscalls whose results are known in
 * advance: lseek(fd, i, SEEK_SET) returns i. A log that pairs a return value
 * with the wrong call (another thread's, or the same thread's previous or next
 * one) shows a retval different from the offset asked for. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define THREADS 4
#define CALLS 3000

static void *worker(void *arg)
{
    int fd = open("/proc/self/exe", O_RDONLY); /* a regular file: any offset goes */
    long base = (long)arg * CALLS;
    for (long i = 0; i < CALLS; i++)
        if (lseek(fd, base + i, SEEK_SET) != base + i)
            return (void *)1;
    close(fd);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed |= r != NULL;
    }
    return failed;
}
