/* codec.c — the dialect registry and what every codec shares: time formats
 * (RFC 3339, OData /Date(ms)/ and Edm.Time, the compact YYYYMMDD/HHMMSS
 * forms), numbers that may arrive as strings, unit-code maps. Pure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

const struct sim_erp_codec *sim_erp_codec_find(const char *name)
{
        static const struct sim_erp_codec *const all[] = {&sim_erp_canonical, &sim_erp_sap_s4};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                if (strcmp(all[i]->name, name) == 0)
                        return all[i];
        }
        return NULL;
}

const struct sim_mes_codec *sim_mes_codec_find(const char *name)
{
        static const struct sim_mes_codec *const all[] = {&sim_mes_canonical, &sim_mes_legacy};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                if (strcmp(all[i]->name, name) == 0)
                        return all[i];
        }
        return NULL;
}

const char *sim_time_format(int64_t ms, enum sim_timefmt f, char *buf, size_t len)
{
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        switch (f) {
        case SIM_T_RFC3339:
                snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         (int)(ms % 1000));
                break;
        case SIM_T_ODATA_DATE: /* midnight of the day; the time goes in Edm.Time */
                snprintf(buf, len, "/Date(%lld)/", (long long)(ms - ms % 86400000));
                break;
        case SIM_T_EDM_TIME:
                snprintf(buf, len, "PT%02dH%02dM%02dS", tm.tm_hour, tm.tm_min, tm.tm_sec);
                break;
        case SIM_T_YMD:
                snprintf(buf, len, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
                break;
        case SIM_T_HMS:
                snprintf(buf, len, "%02d%02d%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
                break;
        case SIM_T_YMDHMS:
                snprintf(buf, len, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
                break;
        }
        return buf;
}

double sim_json_number(const json_t *v)
{
        if (json_is_number(v))
                return json_number_value(v);
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                char *end;
                double d = strtod(s, &end);
                if (end != s && *end == '\0')
                        return d;
        }
        return NAN;
}

const char *sim_json_str(const json_t *obj, const char *key)
{
        const char *s = json_string_value(json_object_get(obj, key));
        return s ? s : "";
}

const char *sim_uom_map(const char *const (*map)[2], const char *code)
{
        for (; (*map)[0] != NULL; map++) {
                if (strcmp((*map)[0], code) == 0)
                        return (*map)[1];
        }
        return code;
}
