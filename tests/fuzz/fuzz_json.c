/*
 * The JSON reader and canonical writer (json.c), against jansson itself:
 * - each text the fast reader accepts, json_loadb(JSON_REJECT_DUPLICATES)
 *   accepts too, with an equal DOM;
 * - stir_json_load answers as json_loadb does (value or NULL);
 * - stir_json_canonical writes json_dumps(JSON_COMPACT | JSON_SORT_KEYS |
 *   JSON_ENCODE_ANY) byte for byte, for every document jansson reads
 *   (\u escapes and reals included, so control characters, NULs in keys
 *   and the hand-off to json_dumps are covered).
 */
#include "fuzz_common.h"

#include "internal.h"
#include "stir/encoding.h"

static void same_canonical(const json_t *v)
{
    char *ours = stir_json_canonical(v, NULL);
    char *theirs = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!ours != !theirs || (ours && strcmp(ours, theirs) != 0))
        abort();
    free(ours);
    free(theirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *theirs = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *fast = sti_json_load_fast(text, size);
    json_t *ours = stir_json_load(text, size, NULL);
    if ((fast && (!theirs || !json_equal(fast, theirs))) || !ours != !theirs ||
        (ours && !json_equal(ours, theirs)))
        abort();
    if (theirs)
        same_canonical(theirs);
    /* Any value, too (a top-level string, number or literal). */
    json_t *any = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (any)
        same_canonical(any);
    json_decref(any);
    json_decref(theirs);
    json_decref(fast);
    json_decref(ours);
    return 0;
}
