/* SPDX-License-Identifier: MIT */
/*
 * fuzz_file.h: the fuzz input as a file, for parsers that read files (config,
 * delegation lists, parent zones): an anonymous memfd reached by its /proc path.
 */
#ifndef ZC_FUZZ_FILE_H
#define ZC_FUZZ_FILE_H

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes @data to a new memfd; fills @path. Returns the fd (close it) or -1. */
static int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("zc-fuzz", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0) {
		return -1;
	}
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#endif
