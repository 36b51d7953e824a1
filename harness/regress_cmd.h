/* `sigharness regress`, `sigharness mutators`, `sigharness mutate` (regress_cmd.c). */
#ifndef SH_REGRESS_CMD_H
#define SH_REGRESS_CMD_H

int sh_regress_command(int argc, char **argv);
int sh_mutators_command(int argc, char **argv);
int sh_mutate_command(int argc, char **argv);

#endif
