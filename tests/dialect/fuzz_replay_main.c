/* fuzz_replay_main.c — a plain main() for fuzz_dialect.c: replays every
 * file of the seed corpus directories given as arguments (bounded: at most
 * 1000 files of at most 64 KiB), so the fuzz target runs as a normal test in
 * any build. Exit status 0 unless a file cannot be read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 1000
#define MAX_SIZE  (64 * 1024)

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (f == NULL)
                return -1;
        uint8_t *buf = malloc(MAX_SIZE);
        size_t n = buf ? fread(buf, 1, MAX_SIZE, f) : 0;
        fclose(f);
        if (buf == NULL)
                return -1;
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        return 0;
}

int main(int argc, char **argv)
{
        int files = 0;
        for (int a = 1; a < argc; a++) {
                DIR *dp = opendir(argv[a]);
                if (dp == NULL) {
                        fprintf(stderr, "cannot open corpus %s\n", argv[a]);
                        return 1;
                }
                struct dirent *de;
                while ((de = readdir(dp)) != NULL && files < MAX_FILES) {
                        if (de->d_name[0] == '.')
                                continue;
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s", argv[a], de->d_name);
                        if (replay_file(path) != 0) {
                                fprintf(stderr, "cannot read %s\n", path);
                                closedir(dp);
                                return 1;
                        }
                        files++;
                }
                closedir(dp);
        }
        printf("replayed %d corpus files\n", files);
        return files > 0 ? 0 : 1;
}
