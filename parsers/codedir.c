#include "codedir.h"
/* being written */
sh_err sh_codedir_parse(const sh_cursor *d, sh_codedir *o, sh_error *e){(void)d;(void)o;return sh_fail(e,SH_E_CD_TRUNCATED,"x",-1,0);}
bool sh_codedir_special_hash(const sh_codedir *cd, uint32_t s, sh_cursor *o){(void)cd;(void)s;(void)o;return 0;}
bool sh_codedir_code_hash(const sh_codedir *cd, uint32_t s, sh_cursor *o){(void)cd;(void)s;(void)o;return 0;}
bool sh_codedir_special_present(const sh_codedir *cd, uint32_t s){(void)cd;(void)s;return 0;}
sh_err sh_codedir_verify_pages(const sh_codedir *cd, const sh_cursor *c, sh_page_report *r, sh_error *e){(void)cd;(void)c;(void)r;(void)e;return SH_E_OK;}
void sh_codedir_flags_string(uint32_t f, char *b, size_t n){(void)f;if(n)b[0]=0;}
