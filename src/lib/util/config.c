/* SPDX-License-Identifier: MIT */
/*
 * Configuration file reader: "key = value" lines with the same keys as the long
 * command-line options, '#' comments, optional double quotes. Which keys exist is
 * the caller's business; this file only reads, bounds and reports syntax errors.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/internal.h"

static const char CONF_ENV_ORIGIN[] = "environment";

struct zc_conf *zc_conf_new(void)
{
	return calloc(1, sizeof(struct zc_conf));
}

void zc_conf_free(struct zc_conf *conf)
{
	if (!conf) {
		return;
	}
	for (size_t i = 0; i < conf->n; i++) {
		free(conf->entries[i].key);
		free(conf->entries[i].value);
	}
	free(conf->entries);
	free(conf->path);
	free(conf);
}

static int conf_append(struct zc_conf *conf, const char *key, size_t klen, const char *value,
		       size_t vlen, unsigned line, const char *origin)
{
	struct zc_conf_entry *e;

	if (conf->n >= ZC_CONF_MAX_ENTRIES) {
		return ZC_ELIMIT;
	}
	e = realloc(conf->entries, (conf->n + 1) * sizeof(*e));
	if (!e) {
		return -ENOMEM;
	}
	conf->entries = e;
	e = &conf->entries[conf->n];
	e->key = strndup(key, klen);
	e->value = strndup(value, vlen);
	e->line = line;
	e->origin = origin;
	if (!e->key || !e->value) {
		free(e->key);
		free(e->value);
		return -ENOMEM;
	}
	conf->n++;
	return 0;
}

static bool key_char_ok(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-';
}

/* Parses one line (NUL-terminated, no newline). Returns 0 or ZC_ECONFIG with @why set. */
static int conf_line(struct zc_conf *conf, char *s, unsigned lineno, const char **why)
{
	char *key, *val, *end;
	size_t klen;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	if (*s == '\0' || *s == '#') {
		return 0;
	}
	key = s;
	while (key_char_ok(*s)) {
		s++;
	}
	klen = (size_t)(s - key);
	if (klen == 0) {
		*why = "expected an option name (lower-case letters, digits, '-')";
		return ZC_ECONFIG;
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s != '=' && *s != ':') {
		*why = "expected '=' after the option name";
		return ZC_ECONFIG;
	}
	s++;
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s == '"') {
		val = ++s;
		end = strchr(s, '"');
		if (!end) {
			*why = "unterminated quoted value";
			return ZC_ECONFIG;
		}
		s = end + 1;
		while (*s == ' ' || *s == '\t') {
			s++;
		}
		if (*s != '\0' && *s != '#') {
			*why = "unexpected text after the quoted value";
			return ZC_ECONFIG;
		}
	} else {
		val = s;
		end = strchr(s, '#');
		if (!end) {
			end = s + strlen(s);
		}
		while (end > val && isspace((unsigned char)end[-1])) {
			end--;
		}
	}
	for (const char *p = val; p < end; p++) {
		if (iscntrl((unsigned char)*p) && *p != '\t') {
			*why = "control character in value";
			return ZC_ECONFIG;
		}
	}
	if (conf_append(conf, key, klen, val, (size_t)(end - val), lineno, conf->path) < 0) {
		*why = "too many entries or out of memory";
		return ZC_ECONFIG;
	}
	return 0;
}

int zc_conf_load(const char *path, struct zc_conf **ret_conf, char *err, size_t errlen)
{
	struct zc_conf *conf = NULL;
	char line[ZC_CONF_MAX_LINE + 2];
	unsigned lineno = 0;
	FILE *f = NULL;
	int fd, r = 0;

	if (!path || !ret_conf) {
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	f = fdopen(fd, "r");
	if (!f) {
		r = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, zc_strerror(r));
		return r;
	}
	conf = zc_conf_new();
	if (!conf || !(conf->path = strdup(path))) {
		r = -ENOMEM;
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *why = NULL;
		size_t n = strlen(line);

		lineno++;
		if (n > 0 && line[n - 1] == '\n') {
			line[--n] = '\0';
		} else if (n > ZC_CONF_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 ZC_CONF_MAX_LINE);
			r = ZC_ECONFIG;
			goto out;
		}
		if (memchr(line, '\0', n) != NULL && strlen(line) != n) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			r = ZC_ECONFIG;
			goto out;
		}
		r = conf_line(conf, line, lineno, &why);
		if (r < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	*ret_conf = conf;
	conf = NULL;
out:
	zc_conf_free(conf);
	fclose(f);
	return r;
}

int zc_conf_add_env(struct zc_conf *conf, char *const *envp, bool (*known)(const char *key))
{
	if (!conf || !envp) {
		return -EINVAL;
	}
	for (; *envp; envp++) {
		const char *e = *envp, *eq;
		char key[128];
		size_t klen;
		int r;

		if (strncmp(e, "ZC_", 3) != 0) {
			continue;
		}
		eq = strchr(e, '=');
		if (!eq || (size_t)(eq - e - 3) >= sizeof(key) || eq == e + 3) {
			continue;
		}
		klen = (size_t)(eq - e - 3);
		for (size_t i = 0; i < klen; i++) {
			char c = e[3 + i];

			key[i] = c == '_' ? '-' : (char)tolower((unsigned char)c);
		}
		key[klen] = '\0';
		if (known && !known(key)) {
			continue;
		}
		r = conf_append(conf, key, klen, eq + 1, strlen(eq + 1), 0, CONF_ENV_ORIGIN);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}
