/* What the JSON harnesses (api, vmconfig) check of the resources Firecracker's JSON made. */
#ifndef TESTS_FUZZ_VMCONFIG_CHECK_H
#define TESTS_FUZZ_VMCONFIG_CHECK_H

#include "config/resources.h"

/* The resources as JSON text (keys sorted): equal texts, equal resources. Free it. */
char *fuzz_vmconfig_export(const struct vm_resources *r);
/* A VM the command line could describe: counts and ranges, drive ids unique, one root. */
void fuzz_vmconfig_check(const struct vm_resources *r);
/* The export of r reads back, as a config file, as the same resources. */
void fuzz_vmconfig_roundtrip(const struct vm_resources *r);

#endif
