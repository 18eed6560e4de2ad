/* SPDX-License-Identifier: MIT */
/*
 * cmd.h: shared pieces of the zonecut command: the dispatch table entry, the option
 * table (command line, config file and ZC_* environment share the same keys),
 * exit codes and output helpers.
 */
#ifndef ZC_CMD_H
#define ZC_CMD_H

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <zonecut/zonecut.h>

#include "util/banned.h"

/* Exit codes (DESIGN.md "Interfaces"). */
enum {
	EXIT_OK = 0,          /* done, nothing needs attention */
	EXIT_ATTENTION = 1,   /* done, some result needs attention */
	EXIT_USAGE = 2,       /* bad usage, config or input; nothing attempted */
	EXIT_OPERATIONAL = 3, /* network, store, internal failure */
};

/* Global state of the command (style: globals live in src/cmd only, named arg_*). */
extern int arg_verbosity;        /* -v/-q moves the log threshold */
extern struct zc_ctx *arg_ctx;   /* library context with our stderr logger */
extern const char *arg_progname; /* "zonecut" */

struct cmd_opt;
/*
 * Sets option @o from @value (NULL for a flag given on the command line; "yes"/"no"
 * for flags from a config file). Returns 0, or -EINVAL after writing why to @err.
 */
typedef int (*cmd_opt_set_fn)(void *state, const struct cmd_opt *o, const char *value, char *err,
			      size_t errlen);

struct cmd_opt {
	const char *name;    /* long name and config key */
	int short_name;      /* 0 when none */
	bool has_arg;
	const char *argname; /* for usage text: "FILE", "ADDR" */
	const char *help;    /* one line */
	cmd_opt_set_fn set;
	bool cmdline_only;   /* not accepted in a config file (e.g. --help) */
};

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;             /* synopsis and description, man-page style */
	const struct cmd_opt *opts;    /* NULL-terminated by name */
};

/* Finds a command by name; NULL if none. */
const struct cmd *cmd_find(const char *name);
/* Prints the full help of @c to @out (same text for `help X` and `X --help`). */
void cmd_print_help(const struct cmd *c, FILE *out);
/* Prints "zonecut: MSG" and "see 'zonecut help CMD'" to stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) ZC_PRINTF(2, 3);

/*
 * cmd_parse_options() - applies, in order of precedence: defaults (already in
 * @state) < --config FILE (when the table has "config") < ZC_* environment <
 * command line. On success *ret_optind is the index of the first operand.
 * Returns 0, 1 when --help was printed, or EXIT_USAGE (message printed).
 */
int cmd_parse_options(const struct cmd *c, void *state, int argc, char **argv, int *ret_optind);

/*
 * The validating resolver's options, one definition for every command that
 * resolves names (option table entries, parsing, and the zc_resolver_opts made
 * of them).
 */
#define CMD_MAX_FORWARD 8
struct cmd_resolver_args {
	const char *trust_anchor;
	const char *root_hints;
	const char *forward[CMD_MAX_FORWARD + 1]; /* NULL-terminated */
	size_t n_forward;
};
/* The table entries; @set must hand them to cmd_resolver_set(). */
#define CMD_RESOLVER_OPTS(set)                                                                   \
	{ "trust-anchor", 0, true, "FILE", "resolver trust anchor (DS or DNSKEY lines)", set },  \
		{ "root-hints", 0, true, "FILE", "resolver root hints", set },                    \
		{ "forward", 0, true, "ADDR", "resolver forwarder (repeatable)", set }
/*
 * Sets option @o in @ra when it is one of CMD_RESOLVER_OPTS. Returns 1 (it was),
 * 0 (another option) or -EINVAL with why in @err.
 */
int cmd_resolver_set(struct cmd_resolver_args *ra, const struct cmd_opt *o, const char *value,
		     char *err, size_t errlen);
/* @ret (zeroed first) from @ra; it points into @ra. */
void cmd_resolver_opts(const struct cmd_resolver_args *ra, struct zc_resolver_opts *ret);

/* Logger writing "zonecut: message" to stderr. */
void cmd_log_stderr(void *ud, int level, const char *msg);

/* --- output helpers (output.c) ---------------------------------------- */

/*
 * Writes @obj as one line of JSON to stdout (and frees it). Returns 0 or -EIO.
 * Adds nothing: callers put "schema" first themselves.
 */
int out_json_line(json_t *obj);
/*
 * out_json_text() - @obj as one line of compact JSON (keys in insertion order),
 * without jansson's dump machinery: a scan writes one per delegation. Caller
 * frees; NULL on ENOMEM.
 */
char *out_json_text(const json_t *obj);
/* RFC 8427-style JSON of a DNS message. Returns a new object or NULL on ENOMEM. */
json_t *out_pkt_json(const ldns_pkt *pkt);
/* kdig-like text of a DNS message to @out. */
void out_pkt_text(FILE *out, const ldns_pkt *pkt);
/* Final check of stdout: returns EXIT_OPERATIONAL when a write failed, else @code. */
int out_finish(int code);
/*
 * Opens the state store at @db, or at zc_store_default_path() when NULL; says
 * why on stderr when it cannot. Returns 0 or the error.
 */
int cmd_open_store(const char *db, struct zc_store **ret);

/* Subcommands. */
int cmd_query(int argc, char **argv);
extern const struct cmd cmd_query_def;
int cmd_scan(int argc, char **argv);
extern const struct cmd cmd_scan_def;
extern const struct cmd cmd_signers_def;

#endif
