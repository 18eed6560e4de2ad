/* SPDX-License-Identifier: MIT */
/*
 * Option handling shared by every subcommand. One table per command drives the
 * command line (getopt_long), the config file (--config, same keys) and the ZC_*
 * environment, with precedence defaults < file < environment < command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define OPTS_MAX 64

static const struct cmd_opt *find_opt(const struct cmd_opt *opts, const char *name)
{
	for (const struct cmd_opt *o = opts; o && o->name; o++) {
		if (strcmp(o->name, name) == 0) {
			return o;
		}
	}
	return NULL;
}

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", arg_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee '%s help%s%s'\n", arg_progname, cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

void cmd_print_help(const struct cmd *c, FILE *out)
{
	fprintf(out, "%s", c->usage);
	if (!c->opts || !c->opts->name) {
		return;
	}
	fprintf(out, "\nOptions:\n");
	for (const struct cmd_opt *o = c->opts; o->name; o++) {
		char left[64];

		if (o->short_name) {
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
				 o->has_arg ? " " : "", o->has_arg ? o->argname : "");
		} else {
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->has_arg ? " " : "",
				 o->has_arg ? o->argname : "");
		}
		fprintf(out, "  %-30s %s\n", left, o->help);
	}
	fprintf(out, "  %-30s %s\n", "-h, --help", "show this help");
	fprintf(out, "\nEvery option but --help and --config can also be set in the file given "
		     "with --config\n(\"name = value\", flags as yes/no) or as ZC_NAME in the "
		     "environment; the command\nline wins over the environment, which wins over the "
		     "file.\n");
}

static int apply(const struct cmd *c, const struct cmd_opt *o, void *state, const char *value,
		 const char *where)
{
	char err[512] = "";

	if (o->set(state, o, value, err, sizeof(err)) < 0) {
		return cmd_usage_error(c->name, "%s%soption '%s': %s", where ? where : "",
				       where ? ": " : "", o->name, err[0] ? err : "invalid value");
	}
	return 0;
}

static const struct cmd_opt *env_table;

/*
 * The config file and environment entries applied last: option setters keep
 * pointers to their values (as they do to argv), so they live until exit.
 */
static struct zc_conf *kept_conf[2];

static bool env_known(const char *key)
{
	const struct cmd_opt *o = find_opt(env_table, key);

	return o && !o->cmdline_only;
}

/* Applies config-file or environment entries, checking every key. */
static int apply_conf(const struct cmd *c, void *state, const struct zc_conf *conf)
{
	for (size_t i = 0; i < conf->n; i++) {
		const struct zc_conf_entry *e = &conf->entries[i];
		const struct cmd_opt *o = find_opt(c->opts, e->key);
		char where[512];
		int r;

		if (e->line) {
			snprintf(where, sizeof(where), "%s:%u", e->origin, e->line);
		} else {
			snprintf(where, sizeof(where), "%s", e->origin);
		}
		if (!o || o->cmdline_only) {
			return cmd_usage_error(c->name, "%s: unknown option '%s' for '%s'", where,
					       e->key, c->name);
		}
		if (!o->has_arg) {
			bool b;

			if (zc_parse_bool(e->value, &b) < 0) {
				return cmd_usage_error(c->name, "%s: option '%s' takes yes or no",
						       where, e->key);
			}
			if (!b) {
				continue; /* a flag set to "no" keeps its default */
			}
		}
		r = apply(c, o, state, o->has_arg ? e->value : NULL, where);
		if (r) {
			return r;
		}
	}
	return 0;
}

int cmd_parse_options(const struct cmd *c, void *state, int argc, char **argv, int *ret_optind)
{
	struct option lopts[OPTS_MAX + 2];
	char shorts[OPTS_MAX * 2 + 4] = "h";
	size_t n = 0, sl = 1;
	const char *config_path = NULL;
	extern char **environ;
	int ch, r;

	for (const struct cmd_opt *o = c->opts; o && o->name && n < OPTS_MAX; o++, n++) {
		lopts[n] = (struct option){ o->name, o->has_arg ? required_argument : no_argument,
					    NULL, 256 + (int)n };
		if (o->short_name) {
			shorts[sl++] = (char)o->short_name;
			if (o->has_arg) {
				shorts[sl++] = ':';
			}
			shorts[sl] = '\0';
		}
	}
	lopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[n] = (struct option){ NULL, 0, NULL, 0 };

	/* Pass 1: --help and --config only; errors are reported in pass 2. */
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		if (ch == 'h') {
			cmd_print_help(c, stdout);
			return 1;
		}
		if (ch >= 256 && strcmp(c->opts[ch - 256].name, "config") == 0) {
			config_path = optarg;
		}
	}
	if (config_path) {
		struct zc_conf *conf = NULL;
		char err[512] = "";

		r = zc_conf_load(config_path, &conf, err, sizeof(err));
		if (r < 0) {
			return cmd_usage_error(c->name, "%s", err);
		}
		r = apply_conf(c, state, conf);
		/* option values point into it: kept for the life of the command */
		zc_conf_free(kept_conf[0]);
		kept_conf[0] = conf;
		if (r) {
			return r;
		}
	}
	{
		struct zc_conf *env = zc_conf_new();

		if (!env) {
			return EXIT_OPERATIONAL;
		}
		env_table = c->opts;
		r = zc_conf_add_env(env, environ, env_known);
		if (r == 0) {
			r = apply_conf(c, state, env);
		}
		zc_conf_free(kept_conf[1]);
		kept_conf[1] = env;
		if (r) {
			return r;
		}
	}

	/* Pass 2: the command line itself. */
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct cmd_opt *o = NULL;

		if (ch == '?' || ch == ':') {
			if (optopt >= 256) {
				return cmd_usage_error(c->name, "option '--%s' needs an argument",
						       c->opts[optopt - 256].name);
			}
			if (optopt) {
				return cmd_usage_error(c->name, "unknown or incomplete option '-%c'",
						       optopt);
			}
			return cmd_usage_error(c->name, "unknown option '%s'", argv[optind - 1]);
		}
		if (ch >= 256) {
			o = &c->opts[ch - 256];
		} else {
			for (const struct cmd_opt *p = c->opts; p && p->name; p++) {
				if (p->short_name == ch) {
					o = p;
					break;
				}
			}
		}
		if (!o) {
			continue;
		}
		r = apply(c, o, state, o->has_arg ? optarg : NULL, NULL);
		if (r) {
			return r;
		}
	}
	*ret_optind = optind;
	return 0;
}

int cmd_resolver_set(struct cmd_resolver_args *ra, const struct cmd_opt *o, const char *value,
		     char *err, size_t errlen)
{
	if (strcmp(o->name, "trust-anchor") == 0) {
		ra->trust_anchor = value;
	} else if (strcmp(o->name, "root-hints") == 0) {
		ra->root_hints = value;
	} else if (strcmp(o->name, "forward") == 0) {
		if (ra->n_forward >= CMD_MAX_FORWARD) {
			snprintf(err, errlen, "at most %d forwarders", CMD_MAX_FORWARD);
			return -EINVAL;
		}
		ra->forward[ra->n_forward++] = value;
		ra->forward[ra->n_forward] = NULL;
	} else {
		return 0;
	}
	return 1;
}

void cmd_resolver_opts(const struct cmd_resolver_args *ra, struct zc_resolver_opts *ret)
{
	*ret = (struct zc_resolver_opts){
		.trust_anchor_file = ra->trust_anchor,
		.root_hints = ra->root_hints,
		.forward = ra->n_forward ? ra->forward : NULL,
	};
}
