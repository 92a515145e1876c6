/* batch.c — prints one ingest batch (takt-dbench-batch).
 *
 *   takt-dbench-batch PREFIX PLANT FIRST COUNT
 *
 * Writes a JSON array of COUNT canonical work_order.released messages, ids
 * lg-PREFIX-FIRST .. lg-PREFIX-(FIRST+COUNT-1), to stdout: the same bodies the
 * load generator posts (bench/ingest/loadgen_msg.c). run.sh posts these with
 * curl to fill the backlog (the API takes up to 1000 per POST). */
#include <stdio.h>
#include <stdlib.h>

#include "loadgen_msg.h"

int main(int argc, char **argv)
{
        if (argc != 5) {
                fprintf(stderr, "usage: %s PREFIX PLANT FIRST COUNT\n", argv[0]);
                return 2;
        }
        unsigned long long first = strtoull(argv[3], NULL, 10);
        unsigned long long count = strtoull(argv[4], NULL, 10);
        char buf[1024];
        putchar('[');
        for (unsigned long long i = 0; i < count; i++) {
                if (loadgen_msg_render(buf, sizeof(buf), argv[1], argv[2], first + i) == 0)
                        return 1;
                printf("%s%s", i ? "," : "", buf);
        }
        puts("]");
        return ferror(stdout) ? 1 : 0;
}
