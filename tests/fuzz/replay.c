/*
 * A main() for fuzz targets built without libFuzzer: feeds every file under the given
 * directories (or the files themselves) to LLVMFuzzerTestOneInput once, so `make test` replays
 * the saved corpus with any compiler.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_path(const char *path)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int n = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: cannot stat\n", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return -1;
		while ((de = readdir(d)) != NULL) {
			char *sub;
			int r;

			if (de->d_name[0] == '.')
				continue;
			sub = file_join(path, de->d_name);
			if (!sub)
				break;
			r = replay_path(sub);
			free(sub);
			if (r < 0) {
				closedir(d);
				return -1;
			}
			n += r;
		}
		closedir(d);
		return n;
	}
	if (file_read_all(&data, &len, path, 64u << 20) < 0) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 1;
}

int main(int argc, char **argv)
{
	int total = 0;

	for (int i = 1; i < argc; i++) {
		int n = replay_path(argv[i]);

		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %d inputs\n", total);
	return 0;
}
