/* canon_types.c — the table of canonical message types (contract §2): each
 * type's wire name and the kinds of system that may send it. The table is the
 * single source of truth; names, parsing and senders are looked up in it. */
#include <string.h>

#include "takt/canon.h"

struct canon_type_info {
        const char *name;
        unsigned senders;
};

static const struct canon_type_info type_table[CANON_TYPE_COUNT] = {
    [CANON_WORK_ORDER_RELEASED] = {"work_order.released", CANON_SENDER_ERP},
    [CANON_WORK_ORDER_CHANGED] = {"work_order.changed", CANON_SENDER_ERP},
    [CANON_WORK_ORDER_CANCELLED] = {"work_order.cancelled", CANON_SENDER_ERP},
    [CANON_WORK_ORDER_ACKNOWLEDGED] = {"work_order.acknowledged", CANON_SENDER_MES},
    [CANON_OPERATION_STARTED] = {"operation.started", CANON_SENDER_MES},
    [CANON_OPERATION_CONFIRMED] = {"operation.confirmed", CANON_SENDER_MES},
    [CANON_MATERIAL_CONSUMED] = {"material.consumed", CANON_SENDER_MES},
    [CANON_QUALITY_HOLD_PLACED] = {"quality.hold_placed", CANON_SENDER_MES},
    [CANON_QUALITY_HOLD_RELEASED] = {"quality.hold_released", CANON_SENDER_MES},
    /* takt derives it itself with `completion: operation` (contract §3). */
    [CANON_WORK_ORDER_COMPLETED] = {"work_order.completed", CANON_SENDER_MES | CANON_SENDER_TAKT},
    [CANON_DOWNTIME_STARTED] = {"downtime.started", CANON_SENDER_MES},
    [CANON_DOWNTIME_ENDED] = {"downtime.ended", CANON_SENDER_MES},
    [CANON_WORK_ORDER_STATE_CHANGED] = {"work_order.state_changed", CANON_SENDER_TAKT},
    [CANON_SLA_BREACHED] = {"sla.breached", CANON_SENDER_TAKT},
};

const char *canon_type_name(enum canon_type t)
{
        if ((unsigned)t >= CANON_TYPE_COUNT)
                return "unknown";
        return type_table[t].name;
}

bool canon_type_parse(const char *name, enum canon_type *out)
{
        if (name == NULL)
                return false;
        for (unsigned i = 0; i < CANON_TYPE_COUNT; i++) {
                if (strcmp(type_table[i].name, name) == 0) {
                        if (out != NULL)
                                *out = (enum canon_type)i;
                        return true;
                }
        }
        return false;
}

unsigned canon_type_senders(enum canon_type t)
{
        if ((unsigned)t >= CANON_TYPE_COUNT)
                return 0;
        return type_table[t].senders;
}
