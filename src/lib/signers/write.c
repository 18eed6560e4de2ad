/* SPDX-License-Identifier: MIT */
/*
 * A write to a signer and its read-back. Servers answer NOERROR to updates they
 * drop (Knot with dnskey-management: full; BIND asked to delete a key it uses),
 * and a signer's secondaries take time to follow its primary: so a write counts
 * only once every authoritative server of the signer serves it. What the read-back
 * sees tells the cases apart: nobody shows any part of the change (ignored), some
 * servers do and others not yet (partial: try again later), all do (done).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zonecut/apply.h>

#include "signers/internal.h"

#define READBACK_POLL_MS 250

static const char *const outcome_names[] = {
	[SGN_WRITE_OK] = "ok",
	[SGN_WRITE_REFUSED] = "refused",
	[SGN_WRITE_TRANSIENT] = "transient",
	[SGN_WRITE_IGNORED] = "ignored",
	[SGN_WRITE_PARTIAL] = "partial",
};

const char *sgn_write_outcome_str(enum sgn_write_outcome o)
{
	return (unsigned)o < ZC_ARRAY_SIZE(outcome_names) ? outcome_names[o] : "?";
}

/* The distinct types of the records of @a and @b. */
static unsigned types_of(const ldns_rr_list *a, const ldns_rr_list *b, ldns_rr_type *out,
			 unsigned max)
{
	unsigned n = 0;

	for (int pass = 0; pass < 2; pass++) {
		const ldns_rr_list *l = pass ? b : a;

		for (size_t k = 0; l && k < ldns_rr_list_rr_count(l); k++) {
			ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(l, k));
			bool known = false;

			for (unsigned m = 0; m < n; m++) {
				known = known || out[m] == t;
			}
			if (!known && n < max) {
				out[n++] = t;
			}
		}
	}
	return n;
}

/*
 * One read-back round over every server. Returns 0 when all serve the change, 1
 * when not (yet; @why says where), or an error (a server did not answer; @why).
 * *ret_effect becomes true when any server shows any part of the change.
 */
static int readback_once(struct zc_signers *c, const struct sgn_server *servers, unsigned n,
			 const ldns_rdf *apex, const ldns_rr_list *add, const ldns_rr_list *del,
			 bool *ret_effect, char *why, size_t whylen)
{
	ldns_rr_type types[8];
	unsigned nt = types_of(add, del, types, ZC_ARRAY_SIZE(types));
	int result = 0;

	for (unsigned s = 0; s < n; s++) {
		for (unsigned m = 0; m < nt; m++) {
			char qwhy[SGN_ERR_LEN] = "";
			ldns_pkt *p = NULL;
			ldns_rr_list *have;
			int e = c->io->query(c->io_ud, servers[s].addr, apex, types[m],
					     c->o.timeout_ms, &p, qwhy, sizeof(qwhy));

			if (e < 0) {
				snprintf(why, whylen, "read-back from %s failed (%s)",
					 servers[s].addr, qwhy[0] ? qwhy : zc_strerror(e));
				return e;
			}
			have = zc_rrset_extract(ldns_pkt_answer(p), apex, types[m]);
			ldns_pkt_free(p);
			if (!have) {
				return -ENOMEM;
			}
			for (int pass = 0; pass < 2; pass++) {
				const ldns_rr_list *l = pass ? del : add;

				for (size_t k = 0; l && k < ldns_rr_list_rr_count(l); k++) {
					const ldns_rr *rr = ldns_rr_list_rr(l, k);
					bool there;

					if (ldns_rr_get_type(rr) != types[m]) {
						continue;
					}
					there = sgn_has_rdata(have, rr);
					if (there == (pass == 0)) {
						*ret_effect = true;
					} else if (result == 0) {
						char *rd = sgn_rdata_str(rr);
						char *tn = ldns_rr_type2str(types[m]);

						snprintf(why, whylen, "%s %s %s %s", servers[s].addr,
							 pass ? "still serves" : "does not serve",
							 tn ? tn : "?", rd ? rd : "?");
						free(rd);
						free(tn);
						result = 1;
					}
				}
			}
			ldns_rr_list_deep_free(have);
		}
	}
	return result;
}

int sgn_write(struct zc_signers *c, const struct zc_signer *s, const char *zone,
	      const ldns_rr_list *add, const ldns_rr_list *del, struct sgn_write_result *res,
	      void (*sent)(void *ud, const struct zc_signer *s), void *ud)
{
	struct sgn_server servers[SGN_MAX_SERVERS];
	char why[SGN_ERR_LEN] = "";
	ldns_rdf *apex = NULL;
	uint64_t deadline;
	bool effect = false;
	int e, rcode = -1;

	memset(res, 0, sizeof(*res));
	res->rcode = -1;
	/*
	 * Every server it will be read back from is known before anything is sent:
	 * a nameserver that gives no address now would leave a server unchecked.
	 */
	e = sgn_servers(c, s, servers, ZC_ARRAY_SIZE(servers), &res->servers, res->why,
			sizeof(res->why));
	if (e == -ENOMEM) {
		return e;
	}
	if (e < 0) {
		res->outcome = SGN_WRITE_TRANSIENT;
		return 0;
	}
	e = zc_name_from_str(zone, &apex);
	if (e < 0) {
		res->outcome = SGN_WRITE_REFUSED;
		snprintf(res->why, sizeof(res->why), "bad zone name '%s'", zone);
		return e == -ENOMEM ? e : 0;
	}
	e = c->io->apply(c->io_ud, s, zone, add, del, c->o.timeout_ms, &rcode, why, sizeof(why));
	if (sent) {
		sent(ud, s);
	}
	res->rcode = rcode;
	if (e == -ENOMEM) {
		ldns_rdf_deep_free(apex);
		return e;
	}
	if (e < 0) {
		/*
		 * Timeouts, refused or broken connections say nothing about the outcome:
		 * try again later. TSIG errors and bad configuration need the operator.
		 */
		bool transient = e == ZC_ETIMEOUT || e == ZC_ECONN || (e > -1000 && e != -EINVAL);

		res->outcome = transient ? SGN_WRITE_TRANSIENT : SGN_WRITE_REFUSED;
		snprintf(res->why, sizeof(res->why), "update of signer '%s' failed (%s)", s->name,
			 why[0] ? why : zc_strerror(e));
		ldns_rdf_deep_free(apex);
		return 0;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		res->outcome = SGN_WRITE_REFUSED;
		if (why[0]) {
			/* the driver knows better (an HTTP API's own message) */
			snprintf(res->why, sizeof(res->why), "signer '%s' refused the update (%s): %s",
				 s->name, zc_rcode_str(rcode), why);
		} else {
			snprintf(res->why, sizeof(res->why),
				 "signer '%s' refused the update (%s): does its ACL or update "
				 "policy allow DNSKEY, CDS, CDNSKEY, CSYNC and NS for this key?",
				 s->name, zc_rcode_str(rcode));
		}
		ldns_rdf_deep_free(apex);
		return 0;
	}
	/* Read back from every server until it shows, or the read-back time is up. */
	deadline = c->io->mono_ms(c->io_ud) + c->o.readback_timeout_ms;
	for (;;) {
		e = readback_once(c, servers, res->servers, apex, add, del, &effect, why,
				  sizeof(why));
		if (e <= 0 || c->io->mono_ms(c->io_ud) >= deadline) {
			break;
		}
		c->io->sleep_ms(c->io_ud, READBACK_POLL_MS);
	}
	ldns_rdf_deep_free(apex);
	if (e == -ENOMEM) {
		return e;
	}
	if (e < 0) {
		res->outcome = SGN_WRITE_TRANSIENT;
		snprintf(res->why, sizeof(res->why), "signer '%s': %s", s->name, why);
	} else if (e > 0 && !effect) {
		/* SPECS §4: servers answer NOERROR to updates they ignore. */
		res->outcome = SGN_WRITE_IGNORED;
		snprintf(res->why, sizeof(res->why),
			 "signer '%s' answered NOERROR but changed nothing (%s): it ignores this "
			 "update (Knot: dnskey-management must be incremental; BIND keeps the keys "
			 "it uses)",
			 s->name, why);
	} else if (e > 0) {
		res->outcome = SGN_WRITE_PARTIAL;
		snprintf(res->why, sizeof(res->why),
			 "the update of signer '%s' is not on every server after %ums: %s", s->name,
			 c->o.readback_timeout_ms, why);
	} else {
		res->outcome = SGN_WRITE_OK;
		snprintf(res->why, sizeof(res->why), "applied and read back from %u server(s)",
			 res->servers);
	}
	return 0;
}
