/* microvm's command line, through the option table (options.h), into a struct microvm_config. */
#ifndef MICROVM_CONFIG_CLI_H
#define MICROVM_CONFIG_CLI_H

#include "config/options.h"
#include "microvm/compiler.h"

enum config_result {
	CONFIG_OK,
	CONFIG_EXIT_HELP,   /* usage or version printed; exit 0 */
	CONFIG_EXIT_USAGE,  /* bad option, one line printed; exit 2 */
};

/*
 * Parses argv into cfg, printing usage or a one-line error itself. Only after
 * CONFIG_OK does cfg hold anything to release with config_free.
 */
MUST_CHECK enum config_result config_parse(struct microvm_config *cfg, int argc, char **argv);
void config_free(struct microvm_config *cfg);

#endif
