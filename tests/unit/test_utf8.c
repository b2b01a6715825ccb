/* The registry's UTF-8 checks (at_registry_util.c): what RFC 3629 calls
 * well-formed, and the cleaning of unvetted audit text. */
#include <string.h>

#include <apr_general.h>

#include "unit.h"
#include "at_registry_private.h"

int main(void)
{
    apr_pool_t *p;
    static const struct {
        const char *text;
        int valid;
        const char *why;
    } cases[] = {
        {"", 1, "empty"},
        {"plain ascii", 1, "ascii"},
        {"caf\xc3\xa9", 1, "two bytes"},
        {"\xe2\x98\x95", 1, "three bytes"},
        {"\xf0\x9f\x98\x80", 1, "four bytes"},
        {"\xf4\x8f\xbf\xbf", 1, "U+10FFFF"},
        {"\xef\xbf\xbf", 1, "U+FFFF"},
        {"\xff", 0, "0xff"},
        {"\x80", 0, "lone continuation"},
        {"caf\xc3", 0, "truncated at the end"},
        {"\xc3(", 0, "bad continuation"},
        {"\xc0\xaf", 0, "overlong two-byte"},
        {"\xc1\xbf", 0, "overlong two-byte, highest"},
        {"\xe0\x80\xaf", 0, "overlong three-byte"},
        {"\xf0\x80\x80\xaf", 0, "overlong four-byte"},
        {"\xed\xa0\x80", 0, "surrogate D800"},
        {"\xed\xbf\xbf", 0, "surrogate DFFF"},
        {"\xf4\x90\x80\x80", 0, "beyond U+10FFFF"},
        {"\xf5\x80\x80\x80", 0, "lead byte F5"},
    };
    size_t i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(at_reg_utf8_valid(cases[i].text) == cases[i].valid, "%s",
              cases[i].why);
    }
    CHECK(at_reg_utf8_len("\xe2\x98\x95x") == 3, "length of a sequence");
    CHECK(at_reg_utf8_len("") == 0, "nothing at the end");
    CHECK(strcmp(at_reg_utf8_clean(p, "op\xff" "caf\xc3\xa9\xc3"),
                 "op?caf\xc3\xa9?") == 0, "bad bytes become '?'");
    CHECK(strcmp(at_reg_utf8_clean(p, NULL), "") == 0, "NULL is empty");
    CHECK(at_reg_utf8_valid(at_reg_utf8_clean(p, "\xed\xa0\x80\xc0\xaf")),
          "cleaned text is valid");
    apr_pool_destroy(p);
    apr_terminate();
    UNIT_DONE();
}
