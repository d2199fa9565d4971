#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "base/textsafe.h"

int av_cli_print_json(cJSON *doc)
{
	char *text = doc ? av_json_print(doc, true) : NULL;
	cJSON_Delete(doc);
	if (!text) {
		fprintf(stderr, "amdvirt: out of memory\n");
		return AV_EXIT_USAGE;
	}
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? AV_EXIT_OK : AV_EXIT_USAGE;
}

bool av_cli_colour(void)
{
	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
}
