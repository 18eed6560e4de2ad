// SPDX-License-Identifier: MIT
/*
 * Per-server-address token buckets shared by several engines (one per thread):
 * --qps-per-server is a limit for the whole scan, whichever worker holds the
 * queries. Buckets are kept in milli-tokens like the engine's own (a query costs
 * 1000, a bucket fills by qps per millisecond and holds max(1, qps/100) queries),
 * in a hash table split into stripes, each with its own lock. A bucket that has
 * filled up again is the same as no bucket: such entries are dropped when a
 * stripe grows, so the table holds the servers of the last moments only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

#define RL_STRIPES 64u
#define RL_MIN_PRUNE 256u

struct rl_key {
	uint16_t family;
	uint16_t port;
	uint32_t scope;
	uint8_t addr[16];
};

struct rl_entry {
	struct rl_entry *next;
	uint32_t hash;
	struct rl_key key;
	uint64_t tokens;
	uint64_t tokens_at;
};

struct rl_stripe {
	pthread_mutex_t lock;
	struct rl_entry **tab;
	size_t size; /* a power of two, or 0 */
	size_t count;
	size_t prune_at;
};

struct zc_rate_limit {
	unsigned qps;
	uint64_t cap;
	uint32_t seed;
	struct rl_stripe stripes[RL_STRIPES];
};

int zc_rate_limit_new(unsigned qps, struct zc_rate_limit **ret)
{
	struct zc_rate_limit *rl;

	if (!ret || qps == 0 || qps > ZC_MAX_QPS) {
		return -EINVAL;
	}
	rl = calloc(1, sizeof(*rl));
	if (!rl) {
		return -ENOMEM;
	}
	rl->qps = qps;
	rl->cap = zc_bucket_cap(qps);
	/* seeded against collisions chosen by whoever writes the glue we are asked to query */
	if (getrandom(&rl->seed, sizeof(rl->seed), 0) != (ssize_t)sizeof(rl->seed)) {
		rl->seed = (uint32_t)(uintptr_t)rl;
	}
	for (unsigned i = 0; i < RL_STRIPES; i++) {
		pthread_mutex_init(&rl->stripes[i].lock, NULL);
		rl->stripes[i].prune_at = RL_MIN_PRUNE;
	}
	*ret = rl;
	return 0;
}

void zc_rate_limit_free(struct zc_rate_limit *rl)
{
	if (!rl) {
		return;
	}
	for (unsigned i = 0; i < RL_STRIPES; i++) {
		struct rl_stripe *st = &rl->stripes[i];

		for (size_t b = 0; b < st->size; b++) {
			struct rl_entry *e = st->tab[b];

			while (e) {
				struct rl_entry *next = e->next;

				free(e);
				e = next;
			}
		}
		free(st->tab);
		pthread_mutex_destroy(&st->lock);
	}
	free(rl);
}

unsigned zc_rate_limit_qps(const struct zc_rate_limit *rl)
{
	return rl ? rl->qps : 0;
}

static void rl_key_of(const struct sockaddr_storage *sa, struct rl_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = sa->ss_family;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		k->port = s4->sin_port;
		memcpy(k->addr, &s4->sin_addr, sizeof(s4->sin_addr));
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		k->port = s6->sin6_port;
		k->scope = s6->sin6_scope_id;
		memcpy(k->addr, &s6->sin6_addr, sizeof(s6->sin6_addr));
	}
}

static uint32_t rl_hash(const struct zc_rate_limit *rl, const struct rl_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u ^ rl->seed;

	for (size_t i = 0; i < sizeof(*k); i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	return h ^ (h >> 15);
}

static void rl_refill(const struct zc_rate_limit *rl, struct rl_entry *e, uint64_t now)
{
	zc_bucket_refill(&e->tokens, &e->tokens_at, rl->cap, rl->qps, now);
}

/* Drops the entries whose bucket is full again at @now. */
static void rl_prune(const struct zc_rate_limit *rl, struct rl_stripe *st, uint64_t now)
{
	for (size_t b = 0; b < st->size; b++) {
		struct rl_entry **pp = &st->tab[b];

		while (*pp) {
			struct rl_entry *e = *pp;

			rl_refill(rl, e, now);
			if (e->tokens >= rl->cap) {
				*pp = e->next;
				free(e);
				st->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	st->prune_at = st->count * 2 > RL_MIN_PRUNE ? st->count * 2 : RL_MIN_PRUNE;
}

static int rl_grow(struct rl_stripe *st)
{
	size_t nsize = st->size ? st->size * 2 : 16;
	struct rl_entry **nt = calloc(nsize, sizeof(*nt));

	if (!nt) {
		return -ENOMEM;
	}
	for (size_t b = 0; b < st->size; b++) {
		struct rl_entry *e = st->tab[b];

		while (e) {
			struct rl_entry *next = e->next;
			size_t nb = (e->hash / RL_STRIPES) & (nsize - 1);

			e->next = nt[nb];
			nt[nb] = e;
			e = next;
		}
	}
	free(st->tab);
	st->tab = nt;
	st->size = nsize;
	return 0;
}

/* The entry for @k, made (with a full bucket) when there is none. NULL: no memory. */
static struct rl_entry *rl_lookup(const struct zc_rate_limit *rl, struct rl_stripe *st,
				  const struct rl_key *k, uint32_t h, uint64_t now)
{
	struct rl_entry *e;

	for (e = st->size ? st->tab[(h / RL_STRIPES) & (st->size - 1)] : NULL; e; e = e->next) {
		if (e->hash == h && memcmp(&e->key, k, sizeof(*k)) == 0) {
			return e;
		}
	}
	if (st->count >= st->prune_at) {
		rl_prune(rl, st, now);
	}
	if (st->count >= st->size && rl_grow(st) < 0) {
		return NULL;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		return NULL;
	}
	e->hash = h;
	e->key = *k;
	e->tokens = rl->cap;
	e->tokens_at = now;
	e->next = st->tab[(h / RL_STRIPES) & (st->size - 1)];
	st->tab[(h / RL_STRIPES) & (st->size - 1)] = e;
	st->count++;
	return e;
}

bool zc_rate_limit_take(struct zc_rate_limit *rl, const struct sockaddr_storage *sa, uint64_t now,
			uint64_t *ret_next)
{
	struct rl_key k;
	uint32_t h;
	struct rl_stripe *st;
	struct rl_entry *e;
	bool ok = false;

	rl_key_of(sa, &k);
	h = rl_hash(rl, &k);
	st = &rl->stripes[h % RL_STRIPES];
	pthread_mutex_lock(&st->lock);
	e = rl_lookup(rl, st, &k, h, now);
	if (!e) {
		/* no memory for the bucket: wait a query's worth, never go over */
		*ret_next = now + zc_bucket_ms(1000, rl->qps);
	} else {
		rl_refill(rl, e, now);
		if (e->tokens >= 1000) {
			e->tokens -= 1000;
			ok = true;
		} else {
			*ret_next = now + zc_bucket_ms(1000 - e->tokens, rl->qps);
		}
	}
	pthread_mutex_unlock(&st->lock);
	return ok;
}

size_t zc_rate_limit_count(struct zc_rate_limit *rl)
{
	size_t n = 0;

	for (unsigned i = 0; i < RL_STRIPES; i++) {
		pthread_mutex_lock(&rl->stripes[i].lock);
		n += rl->stripes[i].count;
		pthread_mutex_unlock(&rl->stripes[i].lock);
	}
	return n;
}
