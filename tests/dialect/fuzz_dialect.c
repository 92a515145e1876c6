/* fuzz_dialect.c — libFuzzer target for the dialect compiler and
 * interpreter. Input: mapping YAML, the separator line "%%", then a JSON
 * message. The mapping is compiled; when it compiles, the message is run
 * inbound, outbound (as if it were an envelope), and every inbound result is
 * run outbound again. Nothing may crash, leak or trip a sanitizer. */
#include <stdint.h>
#include <string.h>

#include "takt/dialect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char sep[] = "\n%%\n";
        const char *text = (const char *)data;
        const char *msg = NULL;
        size_t yaml_len = size;
        for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++) {
                if (memcmp(text + i, sep, sizeof(sep) - 1) == 0) {
                        yaml_len = i;
                        msg = text + i + sizeof(sep) - 1;
                        break;
                }
        }
        char err[256];
        struct dialect *d = dialect_load_text(text, yaml_len, "fuzz.yaml", err, sizeof(err));
        if (d == NULL)
                return 0;
        json_t *src = msg ? json_loadb(msg, size - (size_t)(msg - text), JSON_DECODE_ANY, NULL)
                          : json_object();
        if (src != NULL) {
                struct canon_errors errs = {0};
                json_t *out = dialect_inbound(d, src, "/0", &errs);
                size_t i;
                json_t *env;
                json_array_foreach(out, i, env) json_decref(dialect_outbound(d, env, &errs));
                json_decref(out);
                json_decref(dialect_outbound(d, src, &errs));
                for (int t = 0; t <= CANON_TYPE_COUNT; t++)
                        (void)dialect_accepts(d, (enum canon_type)t);
                json_decref(src);
        }
        dialect_free(d);
        return 0;
}
