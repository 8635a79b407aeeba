/*
 * raw_spawn N J PROGRAM - the baseline for tools/bench/steps.sh: run PROGRAM
 * N times with posix_spawn, at most J at once, reaping with waitpid. No
 * pipes, no event loop, no process groups: the least any engine can do.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	long n, j, started = 0, running = 0;
	char *args[2];

	if (argc != 4) {
		fprintf(stderr, "usage: raw_spawn N J PROGRAM\n");
		return 64;
	}
	n = atol(argv[1]);
	j = atol(argv[2]);
	args[0] = argv[3];
	args[1] = NULL;
	while (started < n || running > 0) {
		pid_t pid;

		if (started < n && running < j) {
			if (posix_spawn(&pid, argv[3], NULL, NULL, args, environ) != 0) {
				perror("posix_spawn");
				return 1;
			}
			started++;
			running++;
			continue;
		}
		if (wait(NULL) > 0)
			running--;
	}
	return 0;
}
