/*
 * multihost.h: labs that span hosts.  A topology document whose nodes name
 * a "host" (a peer, see peer.h) is split by the netnsd that received it into
 * one sub-document per host; each link whose ends sit on two hosts becomes a
 * "tunnels" entry on each side (a vxlan per end, VNI allocated here so that
 * it collides with no VNI either side uses, UDP port MULTIHOST_VXLAN_PORT,
 * MTU the underlay's minus MULTIHOST_VXLAN_OVERHEAD unless the end says).
 * Every host applies its part as a topology of the same name; the
 * coordinator plans on all, applies on all, and rolls back the hosts that
 * succeeded when one fails (destroy, or re-apply of the part they had).
 * The coordinator's record ("multihost" collection) remembers the document,
 * the hosts and the VNIs so destroy reaches all sides and a re-apply keeps
 * its VNIs.  The peers need not know each other: the coordinator gives each
 * side the other's underlay address from its own peer records.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "topology.h"

#define MULTIHOST_COLL		   "multihost"
#define MULTIHOST_VXLAN_PORT	   4789
#define MULTIHOST_VXLAN_OVERHEAD   50
#define MULTIHOST_UNDERLAY_MTU	   1500
#define MULTIHOST_APPLY_TIMEOUT_MS 300000u

/* Whether a document has nodes on other hosts (then the calls below serve it). */
bool multihost_doc_spans(json_t *doc);
/* Whether topology name was applied across hosts by this netnsd. */
bool multihost_known(const char *name);

/*
 * As topology_plan(), topology_apply() and topology_destroy(), across all
 * hosts of the document (or of the record, for destroy).  Return 0 when
 * started (done runs later, once), or -errno with *e filled.  The result
 * is the local result with the steps of all hosts, each step with "host"
 * (null for this netnsd), the counts summed, and "hosts": {PEER: result}.
 */
int multihost_plan(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		   struct topology_error *e);
int multihost_apply(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		    struct topology_error *e);
int multihost_destroy(const char *name, topology_done_fn done, void *userdata,
		      struct topology_error *e);

/* The record's hosts and VNIs for topology.get: {hosts: [...], vnis: {...}}, or NULL. */
json_t *multihost_info(const char *name);
/*
 * The VNIs in use here, sorted, each once: vxlan links of the desired state,
 * the labs this netnsd coordinates, and vxlans in the host's namespace.
 */
json_t *multihost_vnis_in_use(void);
/* A topology a peer carries part of (for peer.delete), or NULL. */
const char *multihost_peer_user(const char *peer);
