/* canon_validate.c — envelope validation (contract §2). STUB: sets *type from
 * "type" and accepts; the field-by-field validation lands next. */
#include "takt/canon.h"

bool canon_validate(const json_t *env, const char *prefix, enum canon_type *type,
                    struct canon_errors *errs)
{
        enum canon_type t;
        if (!canon_type_parse(canon_str(env, "type"), &t)) {
                canon_errors_add(errs, prefix, "/type", "is not a known message type");
                return false;
        }
        if (type != NULL)
                *type = t;
        return true;
}
