/*
 * lab-floor.c: the raw floor of the lab benchmark (tests/bench/bench_lab.py).
 *
 * Builds and tears down N "nodes" with the fewest system calls and netlink
 * messages the job needs, so the benchmark can say how close netnsd and the
 * ip tools come to what the kernel itself charges.  A node is:
 *
 *   - a named network namespace made exactly as `ip netns add` makes it: an
 *     O_EXCL placeholder under /run/netns, unshare(CLONE_NEWNET), a bind
 *     mount of /proc/thread-self/ns/net over the placeholder, setns back;
 *   - lo up;
 *   - a veth pair: "eth0" inside the namespace, PREFIX<TAG>h<I> in the host,
 *     the host end enslaved to one shared bridge and up;
 *   - IPv6 address generation off on both ends (set before they come up);
 *   - an IPv4 address 10.OCTET.X.Y/16 on eth0, eth0 up.
 *
 * Usage:
 *   lab-floor build  PREFIX N BRIDGE OCTET [--group G] [--chunk K]
 *   lab-floor delete PREFIX N --mode explicit|wait|group [--group G] [--chunk K]
 *
 * Namespaces are PREFIX<I> ("PREFIXn7"); host ends are given by the driver
 * as a second prefix: the host end of node I is HPREFIX<I> where HPREFIX is
 * PREFIX with its last character replaced by 'h' (so "bl12fn" -> "bl12fh").
 *
 * build:   phase "ns" makes every namespace and, while inside it, opens an
 *          rtnetlink socket and an fd of the namespace; phase "host" sends,
 *          in chunks of K nodes per sendmsg(), one RTM_NEWLINK per node that
 *          creates the pair (peer in the namespace by fd, master set) and one
 *          RTM_SETLINK (addrgen none + up: safe in one message, the peer is
 *          still down so there is no carrier yet); phase "inside" sends to
 *          each namespace's socket one sendmsg() with four messages (lo up,
 *          eth0 addrgen none, eth0 up, the address) and then reads all acks.
 *          --group G also puts the host ends in device group G (free of cost;
 *          lets "delete --mode group" remove them with one message).
 * delete:  explicit: one RTM_DELLINK per host end (batched like build),
 *                    then umount2(MNT_DETACH) + unlink per namespace: what
 *                    netnsd's netns.delete does;
 *          wait:     umount + unlink only, then poll until the kernel has
 *                    removed every host end with its namespace;
 *          group:    one RTM_DELLINK for device group G (the kernel
 *                    unregisters them all in one batch), then umount +
 *                    unlink.
 *
 * Prints one JSON line: total_ns, cpu_ns (this process, user + system),
 * runq_wait_ns (time it was runnable but another task had the CPU: how busy
 * the machine was) and steps_ns per phase.  Exit status 0, or 1 with a message on stderr.
 */
#define _GNU_SOURCE
#include <net/if.h> /* before the linux/ headers, which it conflicts with */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/run/netns"
#define BUF_SIZE (1u << 20)

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "lab-floor: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Time this process spent runnable but waiting for a CPU: other load. */
static uint64_t runq_wait_ns(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/self/schedstat", "re");

	if (f) {
		if (fscanf(f, "%llu %llu", &run, &wait) != 2)
			wait = 0;
		fclose(f);
	}
	return wait;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* A buffer of netlink requests sent with one sendmsg(). */
struct req {
	char *buf;
	size_t len;
	unsigned count; /* messages, each asks for an ack */
	unsigned seq;
};

static void req_init(struct req *r)
{
	r->buf = calloc(1, BUF_SIZE);
	if (!r->buf)
		die("out of memory");
	r->len = 0;
	r->count = 0;
}

static struct nlmsghdr *msg_begin(struct req *r, uint16_t type, uint16_t flags, const void *hdr,
				  size_t hdr_len)
{
	struct nlmsghdr *n = (struct nlmsghdr *)(r->buf + r->len);

	if (r->len + NLMSG_SPACE(hdr_len) + 512 > BUF_SIZE)
		die("request buffer full");
	memset(n, 0, NLMSG_SPACE(hdr_len));
	n->nlmsg_len = NLMSG_LENGTH(hdr_len);
	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	n->nlmsg_seq = ++r->seq;
	memcpy(NLMSG_DATA(n), hdr, hdr_len);
	r->count++;
	return n;
}

static void msg_end(struct req *r, struct nlmsghdr *n)
{
	r->len += NLMSG_ALIGN(n->nlmsg_len);
}

static struct rtattr *attr(struct nlmsghdr *n, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static struct rtattr *nest(struct nlmsghdr *n, uint16_t type)
{
	return attr(n, type, NULL, 0);
}

static void nest_end(struct nlmsghdr *n, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)n + n->nlmsg_len - (char *)a);
}

/* IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE none } } */
static void addrgen_none(struct nlmsghdr *n)
{
	struct rtattr *spec = nest(n, IFLA_AF_SPEC), *in6 = nest(n, AF_INET6);
	uint8_t mode = IN6_ADDR_GEN_MODE_NONE;

	attr(n, IFLA_INET6_ADDR_GEN_MODE, &mode, 1);
	nest_end(n, in6);
	nest_end(n, spec);
}

static int nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int sz = 1 << 20, one = 1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (fd < 0)
		die("socket(AF_NETLINK): %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	/* Acks carry only the header of the request, not all of it. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind(AF_NETLINK): %s", strerror(errno));
	return fd;
}

static void send_req(int fd, struct req *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (!r->len)
		return;
	n = sendto(fd, r->buf, r->len, 0, (struct sockaddr *)&sa, sizeof(sa));
	if (n < 0 || (size_t)n != r->len)
		die("sendto(netlink): %s", n < 0 ? strerror(errno) : "short write");
}

/* Read count acks from fd; any error is fatal (what names the batch). */
static void read_acks(int fd, unsigned count, const char *what, int tolerate)
{
	static char buf[1 << 16];

	while (count) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		int len;

		if (n < 0)
			die("recv(netlink) during %s: %s", what, strerror(errno));
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len); h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if (e->error && -e->error != tolerate)
				die("%s: request %u failed: %s", what, e->msg.nlmsg_seq,
				    strerror(-e->error));
			count--;
		}
	}
}

static void exchange(int fd, struct req *r, const char *what, int tolerate)
{
	send_req(fd, r);
	read_acks(fd, r->count, what, tolerate);
	r->len = 0;
	r->count = 0;
}

static void raise_nofile(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The run dir must be a shared mount point, as `ip netns add` makes it. */
static void prepare_run_dir(void)
{
	if (mkdir(RUN_DIR, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", RUN_DIR, strerror(errno));
	if (mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return;
	if (errno != EINVAL)
		die("mount --make-rshared %s: %s", RUN_DIR, strerror(errno));
	if (mount(RUN_DIR, RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
	    mount("", RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		die("making %s a shared mount point: %s", RUN_DIR, strerror(errno));
}

static void ns_path(char *buf, size_t len, const char *prefix, int i)
{
	snprintf(buf, len, "%s/%s%d", RUN_DIR, prefix, i);
}

static void host_name(char *buf, size_t len, const char *prefix, int i)
{
	size_t n = strlen(prefix);

	snprintf(buf, len, "%.*sh%d", (int)(n - 1), prefix, i);
	if (strlen(buf) >= IFNAMSIZ)
		die("interface name '%s' is too long", buf);
}

static uint64_t wait0;

static void print_result(const char *op, int n, uint64_t t0, uint64_t c0, const char **steps,
			 const uint64_t *step_ns, int nsteps)
{
	printf("{\"op\":\"%s\",\"n\":%d,\"total_ns\":%llu,\"cpu_ns\":%llu,\"runq_wait_ns\":%llu,"
	       "\"steps_ns\":{",
	       op, n, (unsigned long long)(now_ns() - t0), (unsigned long long)(cpu_ns() - c0),
	       (unsigned long long)(runq_wait_ns() - wait0));
	for (int i = 0; i < nsteps; i++)
		printf("%s\"%s\":%llu", i ? "," : "", steps[i], (unsigned long long)step_ns[i]);
	printf("}}\n");
}

static void build(const char *prefix, int n, const char *bridge, int octet, uint32_t group,
		  int chunk)
{
	int *socks = calloc((size_t)n, sizeof(int)), *nsfds = calloc((size_t)n, sizeof(int));
	int host_fd, host_nl, br;
	uint64_t t0, c0, step[3];
	const char *names[] = { "ns", "host", "inside" };
	struct req r;
	char path[256], hname[IFNAMSIZ + 8];

	if (!socks || !nsfds)
		die("out of memory");
	raise_nofile((unsigned)n * 2 + 64);
	req_init(&r);
	br = (int)if_nametoindex(bridge);
	if (!br)
		die("no bridge '%s': %s", bridge, strerror(errno));

	t0 = now_ns();
	c0 = cpu_ns();
	host_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_fd < 0)
		die("open host netns: %s", strerror(errno));
	host_nl = nl_socket();
	prepare_run_dir();

	/* Phase ns: the namespaces, and a socket and fd of each. */
	for (int i = 0; i < n; i++) {
		int fd;

		ns_path(path, sizeof(path), prefix, i);
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd < 0)
			die("create %s: %s", path, strerror(errno));
		close(fd);
		if (unshare(CLONE_NEWNET) < 0)
			die("unshare(CLONE_NEWNET): %s", strerror(errno));
		if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
			die("bind mount %s: %s", path, strerror(errno));
		socks[i] = nl_socket();
		nsfds[i] = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (nsfds[i] < 0)
			die("open netns: %s", strerror(errno));
		if (setns(host_fd, CLONE_NEWNET) < 0)
			die("setns(host): %s", strerror(errno));
	}
	step[0] = now_ns() - t0;

	/* Phase host: the pairs, batched. */
	for (int i = 0; i < n; i++) {
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
		struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
		struct nlmsghdr *m;
		struct rtattr *li, *data, *pe;
		uint32_t master = (uint32_t)br, nsfd = (uint32_t)nsfds[i];

		host_name(hname, sizeof(hname), prefix, i);
		m = msg_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
		attr(m, IFLA_IFNAME, hname, strlen(hname) + 1);
		attr(m, IFLA_MASTER, &master, 4);
		if (group)
			attr(m, IFLA_GROUP, &group, 4);
		li = nest(m, IFLA_LINKINFO);
		attr(m, IFLA_INFO_KIND, "veth", 5);
		data = nest(m, IFLA_INFO_DATA);
		pe = attr(m, VETH_INFO_PEER, &peer, sizeof(peer));
		attr(m, IFLA_IFNAME, "eth0", 5);
		attr(m, IFLA_NET_NS_FD, &nsfd, 4);
		nest_end(m, pe);
		nest_end(m, data);
		nest_end(m, li);
		msg_end(&r, m);

		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
		m = msg_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
		attr(m, IFLA_IFNAME, hname, strlen(hname) + 1);
		addrgen_none(m);
		msg_end(&r, m);
		if ((i + 1) % chunk == 0 || i == n - 1)
			exchange(host_nl, &r, "creating veth pairs", 0);
	}
	for (int i = 0; i < n; i++)
		close(nsfds[i]);
	step[1] = now_ns() - t0 - step[0];

	/* Phase inside: every namespace's four messages, then every ack. */
	for (int i = 0; i < n; i++) {
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 1,
					 .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
		struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = 16,
					 .ifa_index = 2 };
		struct nlmsghdr *m;
		uint8_t a[4] = { 10, (uint8_t)octet, (uint8_t)((i + 1) >> 8), (uint8_t)((i + 1) & 255) };
		struct req one = { .buf = r.buf, .seq = r.seq };

		m = msg_begin(&one, RTM_NEWLINK, 0, &ifi, sizeof(ifi)); /* lo up */
		msg_end(&one, m);
		ifi.ifi_index = 2; /* eth0: the first device made in a fresh namespace */
		ifi.ifi_flags = ifi.ifi_change = 0;
		m = msg_begin(&one, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
		addrgen_none(m);
		msg_end(&one, m);
		ifi.ifi_flags = ifi.ifi_change = IFF_UP;
		m = msg_begin(&one, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
		msg_end(&one, m);
		m = msg_begin(&one, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof(ifa));
		attr(m, IFA_LOCAL, a, 4);
		attr(m, IFA_ADDRESS, a, 4);
		msg_end(&one, m);
		send_req(socks[i], &one);
		r.seq = one.seq;
	}
	for (int i = 0; i < n; i++) {
		read_acks(socks[i], 4, "configuring a namespace", 0);
		close(socks[i]);
	}
	step[2] = now_ns() - t0 - step[0] - step[1];
	print_result("build", n, t0, c0, names, step, 3);
	close(host_nl);
	close(host_fd);
	free(socks);
	free(nsfds);
	free(r.buf);
}

static void unmount_all(const char *prefix, int n)
{
	char path[256];

	for (int i = 0; i < n; i++) {
		ns_path(path, sizeof(path), prefix, i);
		if (umount2(path, MNT_DETACH) < 0)
			die("umount %s: %s", path, strerror(errno));
		if (unlink(path) < 0)
			die("unlink %s: %s", path, strerror(errno));
	}
}

static void delete(const char *prefix, int n, const char *mode, uint32_t group, int chunk)
{
	uint64_t t0 = now_ns(), c0 = cpu_ns(), step[2] = { 0, 0 };
	const char *names[2];
	char hname[IFNAMSIZ + 8];
	struct req r;
	int nl = nl_socket();

	req_init(&r);
	if (!strcmp(mode, "explicit")) {
		names[0] = "dellink";
		names[1] = "umount";
		for (int i = 0; i < n; i++) {
			struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
			struct nlmsghdr *m = msg_begin(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));

			host_name(hname, sizeof(hname), prefix, i);
			attr(m, IFLA_IFNAME, hname, strlen(hname) + 1);
			msg_end(&r, m);
			if ((i + 1) % chunk == 0 || i == n - 1)
				exchange(nl, &r, "deleting host ends", 0);
		}
		step[0] = now_ns() - t0;
		unmount_all(prefix, n);
		step[1] = now_ns() - t0 - step[0];
	} else if (!strcmp(mode, "group")) {
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
		struct nlmsghdr *m = msg_begin(&r, RTM_DELLINK, 0, &ifi, sizeof(ifi));

		if (!group)
			die("--mode group needs --group");
		names[0] = "dellink";
		names[1] = "umount";
		attr(m, IFLA_GROUP, &group, 4);
		msg_end(&r, m);
		exchange(nl, &r, "deleting the host ends' group", 0);
		step[0] = now_ns() - t0;
		unmount_all(prefix, n);
		step[1] = now_ns() - t0 - step[0];
	} else if (!strcmp(mode, "wait")) {
		int left = n;
		char *gone = calloc((size_t)n, 1);

		names[0] = "umount";
		names[1] = "wait";
		unmount_all(prefix, n);
		step[0] = now_ns() - t0;
		/* The kernel frees the namespaces, and the host ends with them, in a worker. */
		while (left) {
			for (int i = 0; i < n; i++) {
				if (gone[i])
					continue;
				host_name(hname, sizeof(hname), prefix, i);
				if (!if_nametoindex(hname)) {
					gone[i] = 1;
					left--;
				}
			}
			if (left) {
				if (now_ns() - t0 > 60ull * 1000000000ull)
					die("%d host ends still there after 60 s", left);
				usleep(1000);
			}
		}
		step[1] = now_ns() - t0 - step[0];
		free(gone);
	} else {
		die("unknown mode '%s'", mode);
	}
	print_result("delete", n, t0, c0, names, step, 2);
	close(nl);
	free(r.buf);
}

int main(int argc, char **argv)
{
	uint32_t group = 0;
	int chunk = 64;
	const char *mode = "explicit";
	char *pos[6];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--group") && i + 1 < argc)
			group = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
			chunk = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (npos < 6)
			pos[npos++] = argv[i];
		else
			die("too many arguments");
	}
	if (chunk < 1)
		die("bad --chunk");
	wait0 = runq_wait_ns();
	if (npos == 5 && !strcmp(pos[0], "build"))
		build(pos[1], atoi(pos[2]), pos[3], atoi(pos[4]), group, chunk);
	else if (npos == 3 && !strcmp(pos[0], "delete"))
		delete(pos[1], atoi(pos[2]), mode, group, chunk);
	else
		die("usage: lab-floor build PREFIX N BRIDGE OCTET [--group G] [--chunk K] | "
		    "delete PREFIX N [--mode explicit|wait|group] [--group G] [--chunk K]");
	return 0;
}
