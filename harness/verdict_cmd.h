/* `sigharness verify` and `sigharness explain` (usage in README and --help). */
#ifndef SH_VERDICT_CMD_H
#define SH_VERDICT_CMD_H

int sh_verify_command(int argc, char **argv);
int sh_explain_command(int argc, char **argv);

#endif
