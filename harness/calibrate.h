/* `sigharness calibrate RESULTS.json` (calibrate.c): compare real macOS answers, captured with
 * scripts/mac-capture.sh over a fixture folder, with the oracle's expectations. */
#ifndef SH_CALIBRATE_H
#define SH_CALIBRATE_H

/* argv[0] is "calibrate". */
int sh_calibrate_command(int argc, char **argv);

#endif
