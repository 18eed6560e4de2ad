/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay: without libFuzzer, each fuzz target links this main(), which feeds
 * every regular file of the directories (or files) given on the command line to
 * LLVMFuzzerTestOneInput(). Sanitizers turn a bad input into a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1u << 20)

static int run_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_MAX_INPUT);
	if (!buf) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, REPLAY_MAX_INPUT);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		free(buf);
		return -1;
	}
	/* Exact-size copy so ASan catches reads past the input. */
	uint8_t *exact = malloc(n ? (size_t)n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, (size_t)n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, (size_t)n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned files = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) < 0) {
				return 1;
			}
			files++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			return 1;
		}
		while ((de = readdir(d))) {
			char path[4096];

			if (de->d_name[0] == '.') {
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (run_file(path) < 0) {
				closedir(d);
				return 1;
			}
			files++;
		}
		closedir(d);
	}
	printf("replayed %u inputs\n", files);
	return files ? 0 : 1;
}
