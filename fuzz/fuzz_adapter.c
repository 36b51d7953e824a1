/* Tool adapter files (harness/adapter.h): the parser, then the judge over a few typical tool
 * outputs with every pattern the file declared. */
#include <stdint.h>
#include <stdio.h>

#include "adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sh_adapter a;
    char why[SH_ADAPTER_WHY_MAX];
    if (!sh_adapter_parse((const char *)data, size, &a, why, sizeof why))
        return 0;
    static const char *const outputs[] = {
        "X.app: valid on disk\nX.app: satisfies its Designated Requirement\n",
        "X.app: invalid Info.plist (plist or signature have been modified)\n",
        "X.app: rejected\nsource=Unnotarized Developer ID\n",
        "verify: errSecCSReqFailed (-67050)\n",
        "",
    };
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        sh_tool_answer ans;
        sh_adapter_judge(&a, true, (int)i, false, outputs[i], &ans);
        volatile const char *sink = sh_tool_outcome_name(ans.outcome);
        (void)sink;
    }
    sh_adapter_free(&a);
    return 0;
}
