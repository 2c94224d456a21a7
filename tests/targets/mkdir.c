/* Test1/Test2: mkdir(argv[1] or "test") and print what the call returned. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "test";
	int r = mkdir(path, 0777);
	printf("mkdir %s = %d %s\n", path, r, r ? strerrorname_np(errno) : "OK");
	return r ? 1 : 0;
}
