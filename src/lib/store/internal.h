/* SPDX-License-Identifier: MIT */
/*
 * store/internal.h: the backend operations table behind zonecut/store.h. store.c
 * checks arguments and limits, then calls the backend; a backend (sqlite.c now,
 * a PostgreSQL one later) implements every operation with the same contract.
 */
#ifndef ZC_STORE_INTERNAL_H
#define ZC_STORE_INTERNAL_H

#include <pthread.h>
#include <zonecut/store.h>

#include "util/internal.h"

struct zc_store_ops {
	const char *name;
	int (*open)(struct zc_store *st, const char *path);
	void (*close)(struct zc_store *st);
	int (*child_get)(struct zc_store *st, const char *child, struct zc_child_state *ret);
	int (*child_set_applied)(struct zc_store *st, const char *child, uint32_t inception,
				 const char *ds_text, int64_t now);
	int (*journal_add)(struct zc_store *st, const struct zc_journal_entry *e, int64_t now,
			   int64_t *ret_id, enum zc_journal_add_result *ret_result);
	int (*journal_set_state)(struct zc_store *st, int64_t id, enum zc_journal_state from,
				 enum zc_journal_state to, int rcode, const char *error,
				 const char *target, int64_t now);
	int (*journal_get)(struct zc_store *st, int64_t id, struct zc_journal_entry *ret);
	int (*journal_find_unfinished)(struct zc_store *st, const char *child,
				       struct zc_journal_entry *ret);
	int (*journal_list)(struct zc_store *st, bool unfinished_only, const char *parent,
			    size_t max, struct zc_journal_entry **ret_v, size_t *ret_n);
	int (*observe)(struct zc_store *st, const char *child, const char *fingerprint,
		       int64_t now, struct zc_observation *ret);
	int (*observe_clear)(struct zc_store *st, const char *child);
	int (*server_failure)(struct zc_store *st, const char *child, const char *server,
			      int64_t now, int64_t *ret_next_retry, uint32_t *ret_failures);
	int (*server_success)(struct zc_store *st, const char *child, const char *server);
	int (*servers_backing_off)(struct zc_store *st, const char *child, unsigned *ret_count);
	int (*server_get)(struct zc_store *st, const char *child, const char *server,
			  int64_t *ret_next_retry, uint32_t *ret_failures);
	/* multi-signer controller */
	int (*signer_put)(struct zc_store *st, const char *name, const char *spec, int64_t now);
	int (*signer_get)(struct zc_store *st, const char *name, char **ret_spec);
	int (*signer_list)(struct zc_store *st, struct zc_signer_row **ret_v, size_t *ret_n);
	int (*signer_delete)(struct zc_store *st, const char *name);
	int (*group_add)(struct zc_store *st, const struct zc_group_row *r, int64_t now);
	int (*group_get)(struct zc_store *st, const char *zone, struct zc_group_row *ret);
	int (*group_list)(struct zc_store *st, struct zc_group_row **ret_v, size_t *ret_n);
	int (*group_update)(struct zc_store *st, struct zc_group_row *r, int64_t now);
	int (*group_delete)(struct zc_store *st, const char *zone);
	int (*event_add)(struct zc_store *st, const struct zc_group_event *e, int64_t *ret_id);
	int (*event_list)(struct zc_store *st, const char *zone, int64_t proc_id, size_t max,
			  struct zc_group_event **ret_v, size_t *ret_n);
};

struct zc_store {
	struct zc_ctx *ctx;               /* borrowed */
	const struct zc_store_ops *ops;
	void *impl;                       /* the backend's state */
	int schema_version;
	pthread_mutex_t lock;             /* around every backend operation */
};

extern const struct zc_store_ops zc_store_sqlite_ops;

/* RFC 1982 serial comparison on 32 bits: a is newer than b. */
static inline bool zc_serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

/* The back-off delay after @failures consecutive failures (>= 1). */
int64_t zc_store_backoff_delay(uint32_t failures);

#endif
