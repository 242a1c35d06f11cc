/*
 * cmd_call.c: netnsctl call METHOD [JSON-PARAMS | -]: any method, its raw
 * result as JSON.
 */

#include <stdio.h>
#include <string.h>

#include "netnsctl.h"

static int cmd_call(struct ctx *c, int argc, char **argv)
{
	_cleanup_(freep) char *text = NULL;
	json_t *params = NULL, *result = NULL;
	json_error_t jerr;
	size_t len;
	int r;

	if (argc < 2)
		return usage_error(c, "call: missing METHOD");
	if (argc > 3)
		return usage_error(c, "call: unexpected argument '%s' (quote the JSON params)",
				   argv[3]);
	if (argc == 3) {
		if (!strcmp(argv[2], "-")) {
			r = read_all("-", &text, &len);
			if (r < 0) {
				errorf("cannot read standard input: %s", strerror(-r));
				return EXIT_FAIL;
			}
		} else {
			len = strlen(argv[2]);
		}
		params = json_loadb(text ?: argv[2], len, JSON_DECODE_ANY, &jerr);
		if (!params)
			return usage_error(c,
					   "call: the params are not JSON: %s (line %d, column %d)",
					   jerr.text, jerr.line, jerr.column);
	}
	r = rpc_call(c, argv[1], params, &result);
	if (r)
		return r;
	print_json(result);
	json_decref(result);
	return 0;
}

const struct verb verb_call = {
	.name = "call",
	.run = cmd_call,
	.args = "METHOD [JSON-PARAMS | -]",
	.summary = "call any method and print its result as JSON",
	.help = "Send one JSON-RPC request for METHOD with the given params (a JSON\n"
		"object; \"-\" reads it from standard input) and print the raw result as\n"
		"JSON, whatever --json says.  'netnsctl call rpc.discover' prints the\n"
		"OpenRPC document that describes every method.",
	.examples = "  netnsctl call daemon.ping\n"
		    "  netnsctl call netns.get '{\"name\": \"blue\"}'\n"
		    "  echo '{\"name\": \"blue\"}' | netnsctl call netns.delete -\n",
};
