#include "superblob.h"
/* being written */
sh_err sh_blob_view(const sh_cursor *d, const char *w, uint32_t *m, sh_cursor *b, sh_error *e){(void)d;(void)m;(void)b;return sh_fail(e,SH_E_BLOB_TRUNCATED,w,-1,0);}
sh_err sh_superblob_parse(const sh_cursor *d, uint32_t m, sh_superblob *o, sh_error *e){(void)d;(void)m;(void)o;return sh_fail(e,SH_E_BLOB_TRUNCATED,"x",-1,0);}
const sh_blob_entry *sh_superblob_find(const sh_superblob *s, uint32_t t){(void)s;(void)t;return 0;}
const char *sh_slot_name(uint32_t t){(void)t;return "unknown";}
const char *sh_blob_magic_name(uint32_t t){(void)t;return "unknown";}
uint32_t sh_slot_expected_magic(uint32_t t){(void)t;return 0;}
