/* mkhost SCENARIO.json OUTDIR: builds a fake host for tests and the demo. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fakehost.h"

int main(int argc, char **argv)
{
	char *cause = NULL;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SCENARIO.json OUTDIR\n", argv[0]);
		return 1;
	}
	if (fakehost_build(argv[1], argv[2], &cause) < 0) {
		fprintf(stderr, "mkhost: %s\n", cause ? cause : "failed");
		free(cause);
		return 1;
	}
	return 0;
}
