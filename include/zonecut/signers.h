/* SPDX-License-Identifier: MIT */
/*
 * zonecut/signers.h: the multi-signer controller (RFC 8901, model 2). A zone is
 * served by a group of signers (DNS providers), each signing with its own keys.
 * The controller keeps their DNSKEY, CDS/CDNSKEY and NS sets in sync and moves a
 * signer in (join) or out (leave) of the group without a validation failure, as
 * explicit state machines whose state and deadlines live in the store, so that a
 * controller killed at any point resumes where it stood. It also paces the
 * rollover of one signer's ZSK, KSK or CSK inside the group, making the signer
 * act through its keys-command.
 *
 * Key identity is algorithm + public key (zc_key_equal()), never the key tag.
 * Every write to a signer is read back from every authoritative server of that
 * signer: a server that answers NOERROR and changes nothing is caught.
 *
 * Ownership: arguments are borrowed. Objects returned through ret_* are freed
 * by the caller with the function named there.
 * Threading: a controller is used by one thread at a time. It does blocking I/O
 * (TCP to the signers and the parent, each exchange bounded by a timeout): call
 * it from a worker, not from an event-loop callback.
 */
#ifndef ZONECUT_SIGNERS_H
#define ZONECUT_SIGNERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <zonecut/common.h>
#include <zonecut/store.h>
#include <zonecut/util.h>

#define ZC_SIGNER_MAX_NAME 63 /* signer names: [a-z0-9_-], 1..63 characters */
#define ZC_SIGNERS_MAX_NS 16  /* nameserver names per signer */
#define ZC_SIGNERS_MAX_ADDRS 8 /* addresses per nameserver, parent servers per zone */
#define ZC_SIGNERS_MAX_GROUP 8 /* signers in one group */
#define ZC_SIGNERS_MAX_DIGESTS 4

/* --- configuration ------------------------------------------------------- */

/* How the controller writes to a signer. */
enum zc_signer_driver {
	ZC_SIGNER_RFC2136 = 0,  /* RFC 2136 DNS UPDATE with TSIG (Knot, BIND, PowerDNS) */
	ZC_SIGNER_PDNS_API = 1, /* the PowerDNS HTTP API (rrset PATCH) */
};
/* "rfc2136", "pdns-api"; "?" for other values. */
ZC_PUBLIC const char *zc_signer_driver_str(enum zc_signer_driver d);

/* One nameserver of a signer: its name and where to ask it. */
struct zc_signer_ns {
	char *name;                         /* absolute, lower-case, final dot */
	char *addrs[ZC_SIGNERS_MAX_ADDRS];  /* "ADDR@PORT" */
	unsigned n_addrs;
};

/*
 * A signer. In text (config file `signer = ...`, the store, `signers add`):
 *   NAME [driver=rfc2136|pdns-api] server=ADDR[@PORT]
 *        [tsig=[ALG:]KEYNAME:SECRET | tsig-file=PATH]      (rfc2136)
 *        [api-key=TOKEN] [api-server-id=ID]                (pdns-api)
 *        ns=NSNAME[=ADDR[@PORT][,ADDR[@PORT]...]] ...      (at least one)
 *        [keys-command=PATH|manual]
 * server is the primary that takes UPDATEs (port 53 by default), or the API
 * endpoint (port 8081 by default). The ns names are what the signer contributes
 * to the zone's NS set; their addresses are the authoritative servers every
 * write is read back from. A name given without addresses is resolved (A and
 * AAAA, port 53) through the controller's validating resolver once per pass
 * (zc_signers_opts.resolver); one that gives no address makes the reads and
 * writes of the signer fail for that pass (transient), never shrinks the set.
 * keys-command is the program (absolute path, run without a shell) through which
 * the controller makes the signer roll its own keys, as
 *   PATH ZONE publish|activate|remove zsk|ksk|csk [KEYTAG...]
 * (doc/signers.md), or "manual": the operator does each of these at the provider
 * when status says so. Without it the signer's rollovers cannot be run.
 */
struct zc_signer {
	char *name;
	enum zc_signer_driver driver;
	char *server;        /* "ADDR@PORT" */
	char *tsig;          /* NULL when none */
	char *tsig_file;     /* NULL when none */
	char *api_key;       /* NULL when none */
	char *api_server_id; /* NULL: "localhost" */
	char *keys_command;  /* NULL when none */
	struct zc_signer_ns ns[ZC_SIGNERS_MAX_NS];
	unsigned n_ns;
};

/*
 * zc_signer_parse() - a signer from its text form (above). Names are made
 * absolute and lower-case, addresses numeric "ADDR@PORT". Returns 0 with *ret
 * (zc_signer_free()), ZC_ECONFIG with a reason in @err (@errlen bytes), -EINVAL
 * or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signer_parse(const char *text, struct zc_signer **ret, char *err,
					   size_t errlen);
/*
 * zc_signer_format() - the canonical text form of @s, which zc_signer_parse()
 * reads back to the same signer. With @redact, secrets (TSIG secret, API key)
 * read "***": for listings, never for storing. Returns 0 with *ret_text (free()),
 * -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signer_format(const struct zc_signer *s, bool redact,
					    char **ret_text);
/* zc_signer_free() - NULL is a no-op. */
ZC_PUBLIC void zc_signer_free(struct zc_signer *s);

/*
 * A zone run by the controller. In text (config file `zone = ...`, `signers
 * zone-add`):
 *   ZONE [signers=NAME[,NAME...]] [parent=ADDR[@PORT][,ADDR[@PORT]...]]
 *        [cds-digests=2[,4]] [propagation-delay=DURATION] [max-zone-ttl=DURATION]
 * signers is the group the zone starts with (only when the zone is added; later
 * join and leave change the group). parent lists authoritative servers of the
 * parent zone, where the controller reads the DS and NS sets it waits for.
 * cds-digests are the CDS digest types to publish besides those in use (SHA-256
 * always; SHA-1 never, RFC 9558). propagation-delay is added to DNSKEY-Wait for
 * secondaries that are not read back (default 0). max-zone-ttl is the largest TTL
 * of the zone's data: a rollover keeps a retired ZSK or CSK published that long
 * after the signer stopped signing with it (default: the largest of the SOA, NS
 * and DNSKEY TTLs and the SOA minimum the signers serve).
 */
struct zc_signer_zone {
	char *zone;                              /* absolute, lower-case */
	char *signers[ZC_SIGNERS_MAX_GROUP];
	unsigned n_signers;
	char *parent[ZC_SIGNERS_MAX_ADDRS];      /* "ADDR@PORT" */
	unsigned n_parent;
	uint8_t digests[ZC_SIGNERS_MAX_DIGESTS]; /* 2 always among them */
	unsigned n_digests;
	uint32_t propagation_delay_s;
	uint32_t max_zone_ttl_s; /* 0: not given */
};

/* zc_signer_zone_parse() - as zc_signer_parse(), for a zone. */
ZC_PUBLIC ZC_MUSTCHECK int zc_signer_zone_parse(const char *text, struct zc_signer_zone **ret,
						char *err, size_t errlen);
/*
 * zc_signer_zone_format() - canonical text; the signers= list is written only
 * when @with_signers. Returns 0 with *ret_text (free()), -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signer_zone_format(const struct zc_signer_zone *z,
						 bool with_signers, char **ret_text);
/* zc_signer_zone_free() - NULL is a no-op. */
ZC_PUBLIC void zc_signer_zone_free(struct zc_signer_zone *z);

/* --- the controller ------------------------------------------------------ */

struct zc_signers;
struct zc_resolver_opts;

/*
 * Called at each point a process can be interrupted, with a name such as
 * "join/dnskey/before-send/knot", "join/dnskey/after-send/knot",
 * "join/dnskey-wait/enter", "join/cds/done". For logging and for the crash tests
 * (a hook may kill the process). @point is valid during the call.
 */
typedef void (*zc_signers_hook_fn)(void *userdata, const char *point);

struct zc_signers_opts {
	unsigned timeout_ms;          /* each DNS or HTTP exchange; 0: 5000 */
	unsigned readback_timeout_ms; /* how long a write may take to show on every
				       * authoritative server of the signer; 0: 30000 */
	unsigned retry_s;             /* a failed read or write is tried again after this
				       * long; also how often the parent is polled; 0: 10 */
	zc_signers_hook_fn hook;      /* NULL: none */
	void *hook_userdata;
	/*
	 * How nameserver names given without addresses (ns=NAME) are resolved: the
	 * validating resolver's trust anchor, root hints, forwarders (zonecut/net.h).
	 * Borrowed: it and the strings it points to must outlive the controller.
	 * NULL: libunbound's defaults (recursion from its built-in root hints, no
	 * trust anchor: every answer insecure). A timeout_ms of 0 there is three
	 * times timeout_ms above.
	 */
	const struct zc_resolver_opts *resolver;
};

/*
 * zc_signers_new() - a controller keeping its state in @st (borrowed; must
 * outlive it). @opts may be NULL. @ctx (borrowed, may be NULL) gets log messages.
 * Returns 0 with *ret (zc_signers_free()), -EINVAL or -ENOMEM.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_new(struct zc_ctx *ctx, struct zc_store *st,
					  const struct zc_signers_opts *opts,
					  struct zc_signers **ret);
/* zc_signers_free() - NULL is a no-op. */
ZC_PUBLIC void zc_signers_free(struct zc_signers *c);
/*
 * zc_signers_last_error() - the reason of the last failure of a call on @c
 * ("" when none), for people; valid until the next call.
 */
ZC_PUBLIC const char *zc_signers_last_error(const struct zc_signers *c);

/*
 * zc_signers_signer_add() - stores @s. An existing signer of that name is
 * replaced when @replace, else -EEXIST. Returns 0, -EEXIST, ZC_ECONFIG (bad
 * signer: last_error says why) or a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_signer_add(struct zc_signers *c, const struct zc_signer *s,
						 bool replace);
/*
 * zc_signers_signer_remove() - forgets signer @name. Returns 0, ZC_ENOTFOUND,
 * -EBUSY (it belongs to a zone's group: leave first; last_error names the zone)
 * or a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_signer_remove(struct zc_signers *c, const char *name);
/*
 * zc_signers_signer_get() - signer @name into *ret (zc_signer_free()). Returns 0,
 * ZC_ENOTFOUND or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_signer_get(struct zc_signers *c, const char *name,
						 struct zc_signer **ret);
/*
 * zc_signers_signer_list() - every signer in name order: *ret_v (free each with
 * zc_signer_free(), then the array with free(); NULL when *ret_n is 0). Returns
 * 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_signer_list(struct zc_signers *c, struct zc_signer ***ret_v,
						  size_t *ret_n);

/*
 * zc_signers_zone_add() - starts running zone @z with the group z->signers (all
 * active: the controller takes them to be in sync; `sync` makes sure). With
 * @replace an existing zone gets the new configuration and keeps its group and
 * process. Returns 0, -EEXIST, ZC_ENOTFOUND (a signer of the group is not
 * configured), ZC_ECONFIG (last_error says why) or a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_zone_add(struct zc_signers *c,
					       const struct zc_signer_zone *z, bool replace);
/*
 * zc_signers_zone_remove() - stops running @zone (forgets its group and events).
 * Returns 0, ZC_ENOTFOUND, -EBUSY (a process is not finished: abort it first) or
 * a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_zone_remove(struct zc_signers *c, const char *zone);
/*
 * zc_signers_zone_list() - every zone with its group (z->signers: the members,
 * whatever their state) in zone order; free each with zc_signer_zone_free() and
 * the array with free(). Returns 0 or an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_zone_list(struct zc_signers *c,
						struct zc_signer_zone ***ret_v, size_t *ret_n);

/* The processes. */
enum zc_signers_proc {
	ZC_PROC_JOIN = 0,    /* add a signer to the group (RFC 8901 §8.1) */
	ZC_PROC_LEAVE = 1,   /* remove a signer from the group (§8.2) */
	ZC_PROC_SYNC = 2,    /* bring DNSKEY, CDS/CDNSKEY and NS of the group in line */
	ZC_PROC_ROLL_ZSK = 3, /* a ZSK rollover of one signer inside the group (pre-publish) */
	ZC_PROC_ROLL_KSK = 4, /* a KSK rollover of one signer (double-DS) */
	ZC_PROC_ROLL_CSK = 5, /* a CSK rollover of one signer (both) */
};
/* "join", "leave", "sync", "roll-zsk", "roll-ksk", "roll-csk"; "?" otherwise. */
ZC_PUBLIC const char *zc_signers_proc_str(enum zc_signers_proc p);
/* Parses the names above. Returns 0 or -EINVAL. */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_proc_parse(const char *s, enum zc_signers_proc *ret);

/*
 * zc_signers_start() - starts process @kind for @zone about @signer (NULL for
 * sync). Nothing is sent yet: zc_signers_run() does the work. A rollover
 * (ZC_PROC_ROLL_*) rolls @signer's own key of that role through its
 * keys-command (doc/signers.md). Returns 0, ZC_ENOTFOUND (zone or signer
 * unknown), -EBUSY (the zone has an unfinished process, or the signer of a
 * rollover is still joining or leaving), -EINVAL (joining a member, leaving or
 * rolling a non-member, leaving the last member, rolling a signer without a
 * keys-command), ZC_ENOTSUP (an unknown process kind) or a store error;
 * last_error says why.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_start(struct zc_signers *c, const char *zone,
					    enum zc_signers_proc kind, const char *signer);
/*
 * zc_signers_abort() - ends the unfinished process of @zone where it stands
 * ("aborted"); what it wrote stays. Returns 0, ZC_ENOTFOUND (no such zone or no
 * unfinished process) or a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_abort(struct zc_signers *c, const char *zone);
/*
 * zc_signers_resume() - a stopped process of @zone runs again from the step it
 * stopped at (after the operator fixed the cause). Returns 0, ZC_ENOTFOUND (no
 * stopped process) or a store error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_resume(struct zc_signers *c, const char *zone);

/* What one zc_signers_run() pass left behind. */
struct zc_signers_pass {
	unsigned zones;    /* zones with an unfinished process looked at */
	unsigned waiting;  /* waiting (for a deadline, the parent or a retry) */
	unsigned stopped;  /* stopped: the operator must look (status says why) */
	unsigned finished; /* reached "done" during this pass */
	int64_t next_s;    /* Unix time worth the next pass; 0 when nothing waits */
};

/*
 * zc_signers_run() - one pass: every unfinished process (of @zone only when not
 * NULL) goes as far as it can now -- until it must wait for a deadline, for the
 * parent, or for a retry, or stops on a finding. Every step is recorded in the
 * store before the next begins, each write is recorded before it is sent, and a
 * deadline, once recorded, is kept: a pass after a crash goes on exactly where
 * the last one stood. Stopped processes are left alone. Returns 0 (look at
 * @ret, may be NULL), ZC_ENOTFOUND (@zone unknown) or a store error (the pass
 * stopped).
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_run(struct zc_signers *c, const char *zone,
					  struct zc_signers_pass *ret);

/*
 * zc_signers_status() - a JSON array, one object per zone (only @zone when not
 * NULL), schema "zonecut.signers.v1": zone, group, process (kind, signer, step,
 * status, waiting_for, until, error), recent events, and with @live each
 * signer's view read now from its servers (keys with owner and role, CDS,
 * CDNSKEY, NS, CSYNC, TTLs) side by side with the parent's DS and NS sets and
 * whether the group is in sync. Returns 0 with *ret (json_decref()),
 * ZC_ENOTFOUND or an error. Servers that do not answer are reported in the JSON,
 * not as an error.
 */
ZC_PUBLIC ZC_MUSTCHECK int zc_signers_status(struct zc_signers *c, const char *zone, bool live,
					     json_t **ret);

#endif
