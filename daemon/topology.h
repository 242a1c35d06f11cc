/*
 * topology.h: declarative labs.  A topology is a named set of desired-state
 * objects (namespaces, links, addresses, routes, services) compiled from a document
 * (topology_doc.h); each object carries "topology": NAME in its stored doc.
 * This module plans (diffs a document against what netnsd holds), applies
 * (makes the kernel match, in bounded chunks per loop turn, transactionally),
 * destroys, and recovers after a crash in the middle of an apply.
 *
 * Transactions.  Before its first kernel step an apply writes a record to the
 * "txn" collection (the objects it will create, before-images of those it will
 * change or delete) and waits until it is durable.  Kernel steps run; the
 * desired state is not touched until all of them succeeded.  Then every
 * object's new doc, the topology record and the removal of the txn record are
 * written together.  If a step fails, the executed steps are undone in
 * reverse and only the txn record is removed.  At start-up a leftover txn
 * record (netnsd died in the middle) is rolled back before reconcile:
 * created objects are removed from the kernel and the state, before-images
 * are put back, and reconcile then restores them in the kernel.
 *
 * No JSON-RPC here: errors are -errno with a topology_error saying which
 * object, which document path and why.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define TOPOLOGY_COLL "topology"
#define TXN_COLL      "txn"

struct topology_error {
	int err;	   /* -errno: -EINVAL, -EEXIST (conflict), -EBUSY, -ENOENT, a kernel error */
	bool unsupported;  /* the document asks for something this netnsd cannot do */
	char kind[16];	   /* "netns", "link", "addr", "route" or "" */
	char key[300];	   /* the object's desired-state key */
	char path[256];	   /* JSON path in the document, "" when none */
	char msg[768];
};

/*
 * The diff of compiled desired objects against current (an object of the
 * desired-state collections: {"netns": {...}, "link": ..., ...}) for topology
 * name.  Pure.  Returns {"steps": [{"kind", "key", "action": "create" |
 * "change" | "delete", "fields"?: [...], "path"?, "doc"?, "before"?}],
 * "create": N, "change": N, "delete": N}, steps in collection order; or NULL
 * with *e saying which object belongs to someone else.  e may be NULL.
 */
json_t *topology_diff(json_t *desired, json_t *current, const char *name,
		      struct topology_error *e);

/*
 * Plan: check and compile doc, diff it against the state, and check the
 * kernel for objects in the way (a namespace or host link of the same name
 * that netnsd does not hold for this topology).  name may be NULL when the
 * document names itself.  Returns 0 and *ret_plan (steps without the docs),
 * or -errno with *e filled.
 */
int topology_plan(json_t *doc, const char *name, json_t **ret_plan, struct topology_error *e);

/*
 * Called once when an apply or destroy has finished: result on success (the
 * callee's to keep or drop: its reference), or e (result NULL) after the
 * changes were rolled back.
 */
typedef void (*topology_done_fn)(void *userdata, json_t *result, const struct topology_error *e);

/*
 * Start applying doc (name as for topology_plan()).  Returns 0 when the apply
 * started (done runs later, never from within this call), or -errno with *e
 * filled (nothing changed).  -EBUSY while another apply or destroy of the
 * same topology, or of an object it needs, runs.
 */
int topology_apply(json_t *doc, const char *name, topology_done_fn done, void *userdata,
		   struct topology_error *e);

/* Start destroying topology name: like an apply of an empty document, then forget it. */
int topology_destroy(const char *name, topology_done_fn done, void *userdata,
		     struct topology_error *e);

/* {name, applied, document, objects: {netns: [KEY], ...}}, or NULL when unknown. */
json_t *topology_get(const char *name);
/* [{name, applied, counts}] */
json_t *topology_list(void);
/* The document last applied (with its name), or NULL. */
json_t *topology_export(const char *name);

/*
 * Roll back what a crash left half applied.  Call after state_init(), before
 * reconcile.  Processes of services the apply had started are stopped later,
 * by topology_restore_services().
 */
int topology_recover(void);

/*
 * Once processes are adopted (proc_adopt_all()): stop those of services a
 * rolled back apply had started, and start every service of the "service"
 * collection whose process is not there (after a reboot).  Returns the
 * number started.
 */
int topology_restore_services(void);

struct proc_info;
/* The topology whose service process info is, or NULL. */
const char *topology_of_proc(const struct proc_info *info);

/* The most namespaces netnsd manages in all (--max-namespaces); plans beyond it fail -ENOSPC. */
void topology_set_max_namespaces(size_t n);

/* Free what the module remembers (after the loop ended). */
void topology_exit(void);

/* Whether an apply or destroy is running (daemon.info). */
size_t topology_active(void);
