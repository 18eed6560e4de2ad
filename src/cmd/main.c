/* SPDX-License-Identifier: MIT */
/*
 * zonecut: the command. Global options, then one subcommand from the dispatch
 * table. Commands are thin: everything they do is in libzonecut.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"

int arg_verbosity;
struct zc_ctx *arg_ctx;
const char *arg_progname = "zonecut";

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cmd cmd_help_def = {
	.name = "help",
	.run = cmd_help,
	.summary = "show help for zonecut or one of its commands",
	.usage = "Usage: zonecut help [COMMAND]\n",
};

static const struct cmd cmd_version_def = {
	.name = "version",
	.run = cmd_version,
	.summary = "show the version",
	.usage = "Usage: zonecut version\n",
};

static const struct cmd *const cmds[] = {
	&cmd_scan_def,
	&cmd_query_def,
	&cmd_signers_def,
	&cmd_help_def,
	&cmd_version_def,
	NULL,
};

const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; cmds[i]; i++) {
		if (strcmp(cmds[i]->name, name) == 0) {
			return cmds[i];
		}
	}
	return NULL;
}

static void print_main_help(FILE *out)
{
	fprintf(out, "Usage: zonecut [-v|-q] COMMAND [OPTIONS] [ARGS]\n"
		     "\n"
		     "zonecut automates DNSSEC provisioning across the zone cut: it reads what\n"
		     "child zones publish (CDS, CDNSKEY, RFC 9615 signals), checks it, and turns\n"
		     "it into DS changes at the parent.\n"
		     "\n"
		     "Commands:\n");
	for (size_t i = 0; cmds[i]; i++) {
		fprintf(out, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	}
	fprintf(out, "\nGlobal options:\n"
		     "  -v, --verbose     more diagnostics on stderr (repeat for debug)\n"
		     "  -q, --quiet       errors only on stderr\n"
		     "  -h, --help        this help\n"
		     "  -V, --version     the version\n"
		     "\n"
		     "Exit status: 0 done, nothing needs attention; 1 done, some result needs\n"
		     "attention; 2 bad usage, configuration or input; 3 operational failure.\n"
		     "See 'zonecut help COMMAND' for the options of one command.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		print_main_help(stdout);
		return out_finish(EXIT_OK);
	}
	if (argc > 2) {
		return cmd_usage_error("help", "too many arguments");
	}
	c = cmd_find(argv[1]);
	if (!c) {
		return cmd_usage_error(NULL, "unknown command '%s'", argv[1]);
	}
	cmd_print_help(c, stdout);
	return out_finish(EXIT_OK);
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		return cmd_usage_error("version", "too many arguments");
	}
	printf("zonecut %s (ldns %s)\n", zc_version(), ldns_version());
	return out_finish(EXIT_OK);
}

void cmd_log_stderr(void *ud, int level, const char *msg)
{
	static const char *const names[] = { [ZC_LOG_ERR] = "error", [ZC_LOG_WARNING] = "warning",
					     [ZC_LOG_NOTICE] = "notice", [ZC_LOG_INFO] = "info",
					     [ZC_LOG_DEBUG] = "debug" };
	(void)ud;
	if (level < ZC_LOG_ERR || level > ZC_LOG_DEBUG) {
		level = ZC_LOG_ERR;
	}
	fprintf(stderr, "%s: %s: %s\n", arg_progname, names[level], msg);
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			arg_verbosity++;
		} else if (strcmp(a, "-vv") == 0) {
			arg_verbosity += 2;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			arg_verbosity--;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			print_main_help(stdout);
			return out_finish(EXIT_OK);
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			return cmd_version(1, argv);
		} else {
			return cmd_usage_error(NULL, "unknown global option '%s'", a);
		}
	}
	if (i >= argc) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		return cmd_usage_error(NULL, "unknown command '%s'", argv[i]);
	}
	arg_ctx = zc_ctx_new();
	if (!arg_ctx) {
		fprintf(stderr, "%s: out of memory\n", arg_progname);
		return EXIT_OPERATIONAL;
	}
	zc_ctx_set_log_fn(arg_ctx, cmd_log_stderr, NULL);
	{
		int level = ZC_LOG_WARNING + arg_verbosity;

		if (level < ZC_LOG_ERR) {
			level = ZC_LOG_ERR;
		}
		if (level > ZC_LOG_DEBUG) {
			level = ZC_LOG_DEBUG;
		}
		zc_ctx_set_log_level(arg_ctx, level);
	}
	r = c->run(argc - i, argv + i);
	zc_ctx_free(arg_ctx);
	return r;
}
