/* loadgen_msg.c — renders the canonical work_order.released bodies that the
 * load generator posts (see loadgen_msg.h). No allocation. */
#include "loadgen_msg.h"

#include <stdio.h>

size_t loadgen_msg_render(char *buf, size_t size, const char *prefix, const char *plant,
                          uint64_t seq)
{
        int n =
            snprintf(buf, size,
                     "{\"id\":\"lg-%s-%llu\",\"type\":\"work_order.released\",\"schema_version\":1,"
                     "\"plant\":\"%s\",\"work_order\":\"WO-%s-%llu\","
                     "\"occurred_at\":\"2026-11-30T07:00:00Z\",\"data\":{"
                     "\"material\":\"MAT-4711-GEARBOX-HOUSING\","
                     "\"quantity\":{\"value\":120,\"uom\":\"PC\"},"
                     "\"planned_start\":\"2026-12-01T06:00:00Z\","
                     "\"planned_end\":\"2026-12-01T14:00:00Z\",\"revision\":1,"
                     "\"operations\":["
                     "{\"operation\":\"0010\",\"work_center\":\"WC-MILL-01\","
                     "\"description\":\"Rough milling of housing\"},"
                     "{\"operation\":\"0020\",\"work_center\":\"WC-DRILL-02\","
                     "\"description\":\"Drill and tap flange holes\"},"
                     "{\"operation\":\"0030\",\"work_center\":\"WC-QA-01\","
                     "\"description\":\"Final inspection\"}],"
                     "\"components\":[{\"material\":\"RAW-AL-BILLET-200\","
                     "\"quantity\":{\"value\":120,\"uom\":\"PC\"},\"operation\":\"0010\"}]}}",
                     prefix, (unsigned long long)seq, plant, prefix, (unsigned long long)seq);
        if (n < 0 || (size_t)n >= size)
                return 0;
        return (size_t)n;
}
