/* The jailer: validate, build the jail, drop privileges, exec the VMM. */
#include "args.h"
#include "microvm/log.h"

int main(int argc, char **argv)
{
	struct jailer_args args;

	switch (jailer_args_parse(&args, argc, argv)) {
	case JAILER_ARGS_OK:
		break;
	case JAILER_ARGS_EXIT_HELP:
		return 0;
	case JAILER_ARGS_EXIT_USAGE:
	default:
		return 2;
	}
	log_init("jailer", LOG_INFO);
	die("jail set-up is not built yet (issue: jailer)");
}
