/* A strict JSON syntax checker for tests (RFC 8259 grammar, depth-limited). */
#ifndef SH_TEST_JSON_CHECK_H
#define SH_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* True when text[0..len) is exactly one JSON value, optionally surrounded by whitespace. */
bool json_check(const char *text, size_t len);

#endif
