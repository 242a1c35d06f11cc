/*
 * netns.h: network namespaces as the kernel and iproute2 see them.
 *
 * A named namespace is an nsfs bind mount at RUNDIR/NAME (RUNDIR is
 * /run/netns), made exactly as `ip netns add` makes it, so `ip netns exec`,
 * `ip -n` and `ip netns list` work on it.  This module performs the kernel
 * and file system work and nothing else: no JSON, no desired state.  Every
 * function that switches namespaces does so on the calling thread only and
 * has switched back before it returns, on every path.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NETNS_RUN_DIR "/run/netns"
#define NETNS_ETC_DIR "/etc/netns"

/*
 * A namespace's identity: the nsfs inode (st_dev, st_ino), unique among live
 * namespaces, and the kernel's namespace cookie, unique for the whole boot
 * (an inode number is reused once its namespace is freed; a cookie never
 * is).  netns_stat() fills dev and ino only; cookie 0 means unknown.
 */
struct netns_id {
	uint64_t dev, ino;
	uint64_t cookie;
};

static inline bool netns_id_equal(const struct netns_id *a, const struct netns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* Open the host namespace handle; call once on the thread that runs the loop. */
int netns_init(void);
void netns_exit(void);
/* The host (initial) namespace of netnsd, as an fd. */
int netns_host_fd(void);

struct netns_sysctl {
	const char *key;   /* "net.ipv4.ip_forward" or "net/ipv4/ip_forward" */
	const char *value; /* "1" */
};

/* What a namespace should be: the desired state of one namespace. */
struct netns_spec {
	const char *name;
	int nsid; /* -1: let the kernel decide */
	const struct netns_sysctl *sysctls;
	size_t n_sysctls;
	const char *resolv_conf, *hosts; /* NULL: none */
};

/* Which part of a spec a failed netns_create() could not apply. */
enum netns_part {
	NETNS_PART_NAME,
	NETNS_PART_SYSCTL, /* index in ret_index */
	NETNS_PART_NSID,
	NETNS_PART_RESOLV_CONF,
	NETNS_PART_HOSTS,
};

struct netns_failure {
	enum netns_part part;
	size_t index;
};

/*
 * Create RUNDIR/NAME the iproute2 way (lock, shared run dir, O_EXCL
 * placeholder, unshare, bind mount), bring lo up, write the sysctls inside
 * it, assign the nsid and write /etc/netns/NAME files.  Either everything
 * happens or nothing is left behind.  Returns 0 and the identity, -EEXIST
 * when the name is taken, or another -errno with *ret_fail saying which part
 * failed.
 */
int netns_create(const struct netns_spec *spec, struct netns_id *ret_id,
		 struct netns_failure *ret_fail);

/* Remove what netns_create() wrote under /etc/netns/NAME. */
void netns_etc_remove(const char *name);

/* The cookie (SO_NETNS_COOKIE) of namespace name. */
int netns_cookie(const char *name, uint64_t *ret);

/*
 * Hold a reference on namespace name while netnsd owns it, so that its inode
 * number cannot be handed to another namespace while netnsd runs, even if
 * someone unmounts it.  netns_unpin() drops it.  Returns 0 or -errno.
 */
int netns_pin(const char *name);
void netns_unpin(const char *name);
/*
 * Whether netnsd holds namespace name and it is still the one mounted
 * there: the test of ownership while netnsd runs.
 */
bool netns_pinned_mounted(const char *name);

/* Unmount (lazily) and unlink RUNDIR/name.  -ENOENT when absent. */
int netns_remove(const char *name);

/*
 * Identity of RUNDIR/name: 0, -ENOENT when the file is missing, -ENOTCONN
 * when it exists but no namespace is mounted on it (a stale placeholder).
 */
int netns_stat(const char *name, struct netns_id *ret_id);

/*
 * A socket created inside namespace name (NULL: the host): the calling
 * thread enters it for the socket() call only.  type gets SOCK_CLOEXEC.
 */
int netns_socket(const char *name, int domain, int type, int protocol);

/* An O_RDONLY|O_CLOEXEC fd on RUNDIR/name, for setns() or IFLA_NET_NS_FD. */
int netns_open(const char *name);

/*
 * A descriptor of namespace name to hand to a client (O_RDONLY, close-on-
 * exec): the very namespace netnsd holds (netns_pin) when that is still
 * what is mounted at RUNDIR/name (*ret_pinned true), else whatever
 * namespace is mounted there now.  *ret_id is the identity of the returned
 * descriptor itself, so a check against it has no race with the path.
 * -ENOENT when no namespace is mounted there (no file, or a stale
 * placeholder).
 */
int netns_open_checked(const char *name, struct netns_id *ret_id, bool *ret_pinned);

/* Names under RUNDIR (a NULL-terminated malloc'd vector; free with netns_strv_free). */
int netns_list_names(char ***ret);
void netns_strv_free(char **v);

/*
 * The processes (thread-group leaders) whose network namespace is id, as
 * `ip netns pids` finds them.  *ret is malloc'd.
 */
int netns_pids(const struct netns_id *id, pid_t **ret, size_t *ret_n);

/*
 * One pass over /proc for many namespaces at once: cb(index, pid, data) for
 * every process whose namespace is ids[index].  Returns 0 or -errno.
 */
int netns_pids_scan(const struct netns_id *ids, size_t n,
		    void (*cb)(size_t index, pid_t pid, void *data), void *data);
/* The network namespace of a process. */
int netns_pid_id(pid_t pid, struct netns_id *ret_id);

/* nsid of a namespace as seen from the host (-1: none assigned), and assigning one. */
int netns_get_nsid(int fd, int *ret_nsid);
int netns_set_nsid(int fd, int nsid);

/* This boot's id (/proc/sys/kernel/random/boot_id), to tell a restart from a reboot. */
const char *netns_boot_id(void);
