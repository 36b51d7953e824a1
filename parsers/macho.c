#include "macho.h"
/* being written */
sh_err sh_macho_parse(const uint8_t *d, size_t l, const sh_allocator *a, sh_macho_file *o, sh_error *e){(void)d;(void)l;(void)a;(void)o;return sh_fail(e,SH_E_NOT_MACHO,"x",-1,0);}
void sh_macho_free(sh_macho_file *f){(void)f;}
sh_err sh_macho_check_structure(const sh_macho_file *f, sh_error *e){(void)f;(void)e;return SH_E_OK;}
sh_err sh_macho_signature(const sh_macho_slice *s, sh_cursor *o, sh_error *e){(void)s;(void)o;return sh_fail(e,SH_E_MACHO_UNSIGNED,"x",-1,0);}
const char *sh_macho_cpu_name(int32_t c, int32_t s){(void)c;(void)s;return "?";}
const char *sh_macho_load_command_name(uint32_t c){(void)c;return 0;}
const char *sh_macho_filetype_name(uint32_t c){(void)c;return "?";}
const char *sh_macho_platform_name(uint32_t c){(void)c;return "?";}
