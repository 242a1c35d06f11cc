/* SPDX-License-Identifier: GPL-2.0-or-later */

/*
 * Kernel test of daemon/nl.c: every operation against the real kernel, checked with the
 * kernel's own view (ip -j), plus unit tests of nl's pure parsers. Prints TAP.
 *
 * Safety: the test first moves itself into a private network namespace, so the machine's
 * own interfaces, routes and namespace ids are never touched; "the host" below is that
 * private namespace. The named namespaces it needs for `ip -n` are "nlt<pid><x>" and are
 * removed at exit and on fatal signals (unmount + unlink, which is what `ip netns del` does).
 * The benchmark's namespaces have no name: they live only as long as their fds.
 *
 * Needs root and ip(8); exits 77 otherwise. NLT_BENCH=N sets the benchmark size (default
 * 100; 0 skips it).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "util.h"

/* ---- TAP ---------------------------------------------------------------------------------- */

static int t_num, t_failed, t_skipped;

static bool __attribute__((format(printf, 3, 4)))
tap(bool ok, const char *detail, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++t_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		printf(" # %s", detail ? detail : "failed");
		t_failed++;
	}
	printf("\n");
	fflush(stdout);
	return ok;
}

static void __attribute__((format(printf, 2, 3))) skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++t_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
	t_skipped++;
	fflush(stdout);
}

static void __attribute__((format(printf, 1, 2))) diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define CHECK(cond, ...) tap(!!(cond), "failed: " #cond, __VA_ARGS__)

static const char *errname(int r)
{
	static char buf[64];

	if (r >= 0)
		snprintf(buf, sizeof(buf), "%d", r);
	else
		snprintf(buf, sizeof(buf), "-%s", strerrorname_np(-r) ? strerrorname_np(-r) : "?");
	return buf;
}

/* Checks a return value; the detail names both sides and nl's reason. */
static bool __attribute__((format(printf, 4, 5)))
check_r(struct nl *nl, int got, int want, const char *fmt, ...)
{
	char desc[256], detail[512], g[64];
	va_list ap;
	bool ok = want == 0 ? got >= 0 : got == want;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	snprintf(g, sizeof(g), "%s", errname(got));
	snprintf(detail, sizeof(detail), "got %s, want %s; nl: %s", g, errname(want),
		 nl && nl_last_error(nl) ? nl_last_error(nl) : "(none)");
	return tap(ok, detail, "%s", desc);
}

/* ---- environment -------------------------------------------------------------------------- */

static char prefix[12]; /* "nlt" and a pid of at most 7 digits */
#define MAX_NS 8
static char ns_paths[MAX_NS][64];
static int n_ns;
static int host_fd = -1;
static ino_t host_ino;

/* Async-signal-safe: the same as `ip netns del`. */
static void remove_namespaces(void)
{
	for (int i = 0; i < n_ns; i++) {
		if (!ns_paths[i][0])
			continue;
		(void)umount2(ns_paths[i], MNT_DETACH);
		(void)unlink(ns_paths[i]);
		ns_paths[i][0] = '\0';
	}
}

static void on_signal(int sig)
{
	remove_namespaces();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Runs a shell command; returns its output (caller frees) or NULL. */
static char *__attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
	char cmd[1024], *out = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "re");
	if (!f)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		size_t n = fread(out + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	pclose(f);
	return out;
}

/* Checks that the output of a command contains (or lacks) every needle. */
static bool __attribute__((format(printf, 4, 5)))
kernel_shows(const char *cmd, const char *const *needles, bool want, const char *fmt, ...)
{
	char desc[256], detail[1400];
	char *out = sh("%s 2>&1", cmd);
	const char *bad = NULL;
	va_list ap;

	for (const char *const *n = needles; *n && out; n++)
		if ((strstr(out, *n) != NULL) != want) {
			bad = *n;
			break;
		}
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	snprintf(detail, sizeof(detail), "%s '%s' in `%s`: %.900s", want ? "missing" : "unexpected",
		 bad ? bad : "", cmd, out ? out : "(no output)");
	tap(out && !bad, detail, "%s", desc);
	free(out);
	return out && !bad;
}

#define SHOWS(cmd, desc, ...)                                                                      \
	kernel_shows(cmd, (const char *const[]){ __VA_ARGS__, NULL }, true, "%s", desc)
#define LACKS(cmd, desc, ...)                                                                      \
	kernel_shows(cmd, (const char *const[]){ __VA_ARGS__, NULL }, false, "%s", desc)

static ino_t thread_ns_ino(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) < 0 ? 0 : st.st_ino;
}

/* Makes a named namespace the way `ip netns add` does (by running it); returns an fd. */
static int make_ns(char suffix, char *name)
{
	char cmd[128];
	int fd;

	if (n_ns >= MAX_NS)
		abort();
	sprintf(name, "%s%c", prefix, suffix);
	snprintf(ns_paths[n_ns++], sizeof(ns_paths[0]), "/run/netns/%s", name);
	snprintf(cmd, sizeof(cmd), "ip netns add %s", name);
	if (system(cmd) != 0)
		return -1;
	fd = open(ns_paths[n_ns - 1], O_RDONLY | O_CLOEXEC);
	return fd;
}

/* A namespace without a name: it lives as long as the returned fd. */
static int make_anon_ns(void)
{
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(host_fd, CLONE_NEWNET) < 0)
		abort();
	return fd;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* One ICMP echo from inside nsfd's namespace to dst, which must be one of our own addresses.
 * Done in a child so the test never leaves its namespace. Returns true on a reply. */
static bool ping_once(int nsfd, const char *dst, int timeout_ms)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return false;
	if (pid == 0) {
		struct nl_addr a;
		uint8_t pkt[64] = {}, rbuf[1500];
		uint16_t id = (uint16_t)getpid();
		struct timespec t0, t;
		int s;

		if (nl_parse_addr(dst, &a) < 0 || setns(nsfd, CLONE_NEWNET) < 0)
			_exit(2);
		s = socket(a.family, SOCK_RAW | SOCK_CLOEXEC,
			   a.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
		if (s < 0)
			_exit(2);
		if (a.family == AF_INET) {
			struct icmphdr *h = (struct icmphdr *)pkt;
			struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = a.in };

			h->type = ICMP_ECHO;
			h->un.echo.id = htons(id);
			h->un.echo.sequence = htons(1);
			h->checksum = csum(pkt, sizeof(pkt));
			if (sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(3);
		} else {
			struct icmp6_hdr *h = (struct icmp6_hdr *)pkt;
			struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = a.in6 };

			h->icmp6_type = ICMP6_ECHO_REQUEST;
			h->icmp6_id = htons(id);
			h->icmp6_seq = htons(1);
			/* The kernel fills in ICMPv6 checksums on raw sockets. */
			if (sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(3);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			struct pollfd pfd = { .fd = s, .events = POLLIN };
			long left;
			ssize_t n;

			clock_gettime(CLOCK_MONOTONIC, &t);
			left = timeout_ms -
			       ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				_exit(1);
			n = recv(s, rbuf, sizeof(rbuf), 0);
			if (a.family == AF_INET &&
			    n >= (ssize_t)(sizeof(struct iphdr) + sizeof(struct icmphdr))) {
				const struct iphdr *ip = (const struct iphdr *)rbuf;
				const struct icmphdr *h =
				    (const struct icmphdr *)(rbuf + ip->ihl * 4);

				if (n >= ip->ihl * 4 + (ssize_t)sizeof(*h) &&
				    h->type == ICMP_ECHOREPLY && ntohs(h->un.echo.id) == id &&
				    ip->saddr == a.in.s_addr)
					_exit(0);
			} else if (a.family == AF_INET6 && n >= (ssize_t)sizeof(struct icmp6_hdr)) {
				const struct icmp6_hdr *h = (const struct icmp6_hdr *)rbuf;

				if (h->icmp6_type == ICMP6_ECHO_REPLY && ntohs(h->icmp6_id) == id)
					_exit(0);
			}
		}
	}
	if (waitpid(pid, &status, 0) < 0)
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		diag("ping %s: child status 0x%x (1: no reply, 2: setup failed, 3: send failed)",
		     dst, status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static bool ping(int nsfd, const char *dst)
{
	for (int i = 0; i < 3; i++)
		if (ping_once(nsfd, dst, 1000))
			return true;
	return false;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

static struct nl_prefix P(const char *s) {
	struct nl_prefix p;

	if (nl_parse_cidr(s, &p) < 0) {
		fprintf(stderr, "bad test prefix %s\n", s);
		abort();
	}
	return p;
}

/* A pointer to a parsed prefix, for arguments. */
#define PP(s) (&(struct nl_prefix[1]){ P(s) }[0])

static struct nl_addr
A(const char *s) {
	struct nl_addr a;

	if (nl_parse_addr(s, &a) < 0)
		abort();
	return a;
}

static bool
has_link(struct nl *nl, const char *name)
{
	struct nl_link_info l;

	return nl_link_get(nl, NL_DEV(name), &l) == 0;
}

/* ---- pure parsers ------------------------------------------------------------------------- */

static void test_parsers(void)
{
	static const struct {
		const char *in;
		int family;
		const char *addr;
		unsigned len;
	} good[] = {
		{ "10.0.0.1/24", AF_INET, "10.0.0.1", 24 },
		{ "fd00::1/64", AF_INET6, "fd00::1", 64 },
		{ "10.0.0.1", AF_INET, "10.0.0.1", 32 },
		{ "fd00::1", AF_INET6, "fd00::1", 128 },
		{ "0.0.0.0/0", AF_INET, "0.0.0.0", 0 },
		{ "::/0", AF_INET6, "::", 0 },
		{ "255.255.255.255/32", AF_INET, "255.255.255.255", 32 },
		{ "FD00:0:0::A/128", AF_INET6, "fd00::a", 128 },
		{ "::ffff:1.2.3.4/96", AF_INET6, "::ffff:1.2.3.4", 96 },
	};
	static const char *const bad[] = {
		"",
		"/",
		"/24",
		"10.0.0.1/",
		"10.0.0.1/33",
		"fd00::1/129",
		"10.0.0.1/024",
		"10.0.0.1/+4",
		"10.0.0.1/-1",
		"10.0.0.1/ 24",
		" 10.0.0.1/24",
		"10.0.0.1/24 ",
		"10.0.0/24",
		"10.0.0.256/8",
		"01.2.3.4",
		"10.0.0.1/24/1",
		"fd00::1%eth0/64",
		"fd00:::1/64",
		"abc",
		"default",
		"10.0.0.1/2x",
		"10.0.0.1/1000",
		"1.2.3.4.5",
		NULL,
	};
	char buf[NL_ADDRSTRLEN];
	struct nl_prefix p;
	struct nl_addr a;
	uint8_t mac[ETH_ALEN];
	char macs[NL_MACSTRLEN];
	bool ok;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int r = nl_parse_cidr(good[i].in, &p);

		ok = r == 0 && p.family == good[i].family && p.prefixlen == good[i].len &&
		     !strcmp(nl_format_addr(p.family, p.bytes, buf), good[i].addr);
		tap(ok, r ? errname(r) : buf, "nl_parse_cidr(\"%s\") = %s/%u", good[i].in,
		    good[i].addr, good[i].len);
	}
	ok = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.prefixlen = 99;
		if (nl_parse_cidr(bad[i], &p) != -EINVAL || p.prefixlen != 99) {
			diag("nl_parse_cidr accepted \"%s\" (or wrote ret on failure)",
			     bad[i] ? bad[i] : "NULL");
			ok = false;
		}
	}
	CHECK(ok, "nl_parse_cidr rejects %zu malformed inputs and leaves ret untouched",
	      sizeof(bad) / sizeof(bad[0]));

	CHECK(nl_parse_addr("10.1.2.3", &a) == 0 && a.family == AF_INET && a.bytes[3] == 3 &&
		  nl_parse_addr("fe80::1", &a) == 0 && a.family == AF_INET6 &&
		  nl_parse_addr("10.1.2.3/8", &a) == -EINVAL && nl_parse_addr("", &a) == -EINVAL &&
		  nl_parse_addr("fe80::1%lo", &a) == -EINVAL,
	      "nl_parse_addr takes plain addresses only");

	p = P("10.1.2.3/24");
	ok = nl_prefix_has_host_bits(&p);
	nl_prefix_mask(&p);
	ok = ok && !nl_prefix_has_host_bits(&p) &&
	     !strcmp(nl_format_addr(AF_INET, p.bytes, buf), "10.1.2.0");
	p = P("fd00::1:2/112");
	ok = ok && nl_prefix_has_host_bits(&p);
	nl_prefix_mask(&p);
	ok = ok && !strcmp(nl_format_addr(AF_INET6, p.bytes, buf), "fd00::1:0");
	p = P("10.1.2.3/0");
	nl_prefix_mask(&p);
	ok = ok && !strcmp(nl_format_addr(AF_INET, p.bytes, buf), "0.0.0.0");
	p = P("10.1.2.3/32");
	ok = ok && !nl_prefix_has_host_bits(&p);
	CHECK(ok, "nl_prefix_has_host_bits / nl_prefix_mask");

	CHECK(nl_parse_mac("02:aB:cd:EF:00:11", mac) == 0 && mac[1] == 0xab && mac[5] == 0x11 &&
		  !strcmp(nl_format_mac(mac, ETH_ALEN, macs), "02:ab:cd:ef:00:11"),
	      "nl_parse_mac / nl_format_mac round trip");
	CHECK(nl_parse_mac("02:ab:cd:ef:00", mac) == -EINVAL &&
		  nl_parse_mac("02:ab:cd:ef:00:11:22", mac) == -EINVAL &&
		  nl_parse_mac("02-ab-cd-ef-00-11", mac) == -EINVAL &&
		  nl_parse_mac("0g:ab:cd:ef:00:11", mac) == -EINVAL &&
		  nl_parse_mac("01:00:5e:00:00:01", mac) == -EINVAL &&
		  nl_parse_mac("00:00:00:00:00:00", mac) == -EINVAL &&
		  nl_parse_mac("", mac) == -EINVAL,
	      "nl_parse_mac rejects malformed, multicast and zero addresses");

	CHECK(ifname_valid("eth0") && ifname_valid("a") &&
		  ifname_valid("123456789012345") && ifname_valid("br-x.100") &&
		  !ifname_valid("") && !ifname_valid(NULL) &&
		  !ifname_valid("1234567890123456") && !ifname_valid(".") &&
		  !ifname_valid("..") && !ifname_valid("a/b") &&
		  !ifname_valid("a:b") && !ifname_valid("a b") &&
		  !ifname_valid("a\tb") && !ifname_valid("a\n"),
	      "ifname_valid follows the kernel's rules");
	CHECK(!strcmp(nl_operstate_to_string(6), "up") &&
		  !strcmp(nl_operstate_to_string(2), "down") &&
		  !strcmp(nl_operstate_to_string(200), "unknown"),
	      "nl_operstate_to_string");
}

/* ---- kernel tests ------------------------------------------------------------------------- */

static char ns_a[32], ns_b[32], ns_hub[32];
static int fd_a = -1, fd_b = -1, fd_hub = -1;
static struct nl *h_host, *h_a, *h_b, *h_hub;
static const char *phys_kind = "dummy"; /* what stands in for a physical NIC */

static void test_open(void)
{
	struct nl *nl = NULL;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int r;

	r = nl_open(-1, -1, &nl);
	check_r(nl, r, 0, "nl_open in the current namespace");
	nl_close(nl);
	nl = NULL;
	r = nl_open(fd_a, host_fd, &nl);
	check_r(NULL, r, 0, "nl_open in another namespace");
	CHECK(thread_ns_ino() == host_ino,
	      "the thread is back in the host namespace after nl_open");
	nl_close(nl);
	nl = NULL;

	r = nl_open(devnull, host_fd, &nl);
	CHECK(r == -EINVAL && !nl && thread_ns_ino() == host_ino,
	      "nl_open with a netns fd that is no namespace fails (%s) and stays home", errname(r));
	r = nl_open(fd_a, devnull, &nl);
	CHECK(r < 0 && !nl && thread_ns_ino() == host_ino,
	      "nl_open with a host fd that is no namespace fails (%s) before leaving", errname(r));
	r = nl_open(fd_a, 999, &nl);
	CHECK(r == -EBADF && !nl && thread_ns_ino() == host_ino,
	      "nl_open with a closed host fd fails (%s)", errname(r));
	nl_close(NULL);
	close(devnull);
}

static void test_links(void)
{
	char cmd[256];
	struct nl_link_info l, peer;
	uint8_t mac[ETH_ALEN];
	int r;

	/* lo */
	check_r(h_a, nl_link_set_up(h_a, NL_DEV("lo"), true), 0, "bring lo up in a namespace");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j link show dev lo", ns_a);
	SHOWS(cmd, "ip shows lo UP", "\"UP\"");

	/* bridge */
	r = nl_link_add(
	    h_hub, &(struct nl_link_spec){
		       .name = "br0", .kind = "bridge", .up = true, .ifalias = "netnsd:bridge" });
	check_r(h_hub, r, 0, "create bridge br0 (up, ifalias)");
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev br0", ns_hub);
	SHOWS(cmd, "ip shows br0: bridge, STP off, forward delay 0, ifalias, up",
	      "\"info_kind\":\"bridge\"", "\"stp_state\":0", "\"forward_delay\":0",
	      "\"ifalias\":\"netnsd:bridge\"", "\"UP\"");
	r = nl_link_add(h_hub, &(struct nl_link_spec){ .name = "br1",
						       .kind = "bridge",
						       .bridge.vlan_filtering = true });
	if (r == -EOPNOTSUPP)
		skip("kernel without CONFIG_BRIDGE_VLAN_FILTERING",
		     "bridge with vlan_filtering (-EOPNOTSUPP)");
	else if (check_r(h_hub, r, 0, "create bridge br1 with vlan_filtering")) {
		snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev br1", ns_hub);
		SHOWS(cmd, "ip shows br1 vlan_filtering 1", "\"vlan_filtering\":1");
	}

	/* veth pairs with the peer in another namespace, attached to br0 */
	nl_parse_mac("02:00:00:00:aa:01", mac);
	r = nl_link_add(h_hub, &(struct nl_link_spec){
				   .name = "va",
				   .kind = "veth",
				   .up = true,
				   .mtu = 1400,
				   .master = NL_DEV("br0"),
				   .ifalias = "netnsd:a",
				   .mac = mac,
				   .peer = { .name = "eth0", .in_netns = true, .netns_fd = fd_a },
			       });
	check_r(h_hub, r, 0, "create veth va (hub, on br0) with peer eth0 in namespace a");
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev va", ns_hub);
	SHOWS(cmd, "ip shows va: veth, master br0, mtu 1400, mac, ifalias, up",
	      "\"info_kind\":\"veth\"", "\"master\":\"br0\"", "\"mtu\":1400",
	      "\"address\":\"02:00:00:00:aa:01\"", "\"ifalias\":\"netnsd:a\"", "\"UP\"");
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev eth0", ns_a);
	SHOWS(cmd, "ip shows eth0 in namespace a: veth, mtu 1400", "\"info_kind\":\"veth\"",
	      "\"mtu\":1400");

	r = nl_link_add(
	    h_hub, &(struct nl_link_spec){
		       .name = "vb",
		       .kind = "veth",
		       .up = true,
		       .master = NL_DEV("br0"),
		       .peer = { .name = "eth0", .in_netns = true, .netns_fd = fd_b, .mtu = 1500 },
		   });
	check_r(h_hub, r, 0, "create veth vb with peer eth0 in namespace b");
	check_r(h_a, nl_link_set_up(h_a, NL_DEV("eth0"), true), 0, "bring eth0 up in namespace a");
	check_r(h_b, nl_link_set_up(h_b, NL_DEV("eth0"), true), 0, "bring eth0 up in namespace b");

	r = nl_link_get(h_hub, NL_DEV("va"), &l);
	check_r(h_hub, r, 0, "nl_link_get va");
	nl_link_get(h_a, NL_DEV("eth0"), &peer);
	CHECK(!strcmp(l.kind, "veth") && !strcmp(l.slave_kind, "bridge") &&
		  !strcmp(l.master, "br0") && l.mtu == 1400 && l.up &&
		  !strcmp(l.ifalias, "netnsd:a") && l.mac_len == 6 && !memcmp(l.mac, mac, 6) &&
		  l.link_netnsid >= 0 && l.link_ifindex == peer.ifindex &&
		  !strcmp(peer.kind, "veth") && peer.link_ifindex == l.ifindex,
	      "nl_link_get reports kind, master, mtu, mac, ifalias and the peer (ifindex %d, nsid "
	      "%d)",
	      l.link_ifindex, l.link_netnsid);

	/* one message: a peer name taken in the target namespace leaves nothing behind */
	nl_link_add(h_a,
		    &(struct nl_link_spec){ .name = "x0", .kind = "veth", .peer.name = "eth1" });
	r = nl_link_add(h_hub, &(struct nl_link_spec){
				   .name = "vc",
				   .kind = "veth",
				   .peer = { .name = "eth1", .in_netns = true, .netns_fd = fd_a },
			       });
	check_r(h_hub, r, -EEXIST,
		"veth whose peer name is taken in the target namespace: -EEXIST");
	CHECK(!has_link(h_hub, "vc"), "... and no half of it exists");
	nl_link_del(h_a, NL_DEV("x0"));

	/* the stand-in for a physical NIC */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "dum0", .kind = "dummy", .up = true });
	if (r == -EOPNOTSUPP) {
		skip("kernel without CONFIG_DUMMY; using ifb as the physical NIC",
		     "dummy link (%s)", nl_last_error(h_a) ? nl_last_error(h_a) : "");
		phys_kind = "ifb";
		r = nl_link_add(
		    h_a, &(struct nl_link_spec){ .name = "dum0", .kind = phys_kind, .up = true });
	}
	check_r(h_a, r, 0, "create %s dum0 (up) in namespace a", phys_kind);
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev dum0", ns_a);
	SHOWS(cmd, "ip shows dum0", "\"ifname\":\"dum0\"");

	/* vlan */
	r = nl_link_add(
	    h_a, &(struct nl_link_spec){
		     .name = "dum0.10", .kind = "vlan", .parent = NL_DEV("dum0"), .vlan.id = 10 });
	if (r == -EOPNOTSUPP)
		skip("kernel without CONFIG_VLAN_8021Q", "vlan link (%s)",
		     nl_last_error(h_a) ? nl_last_error(h_a) : "");
	else if (check_r(h_a, r, 0, "create vlan dum0.10 id 10 on dum0")) {
		snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev dum0.10", ns_a);
		SHOWS(cmd, "ip shows the vlan: id 10, 802.1Q, on dum0", "\"protocol\":\"802.1Q\"",
		      "\"id\":10", "\"link\":\"dum0\"");
		r = nl_link_get(h_a, NL_DEV("dum0.10"), &l);
		CHECK(r == 0 && l.vlan_id == 10 && l.vlan_protocol == ETH_P_8021Q &&
			  !strcmp(l.link_name, "dum0"),
		      "nl_link_get reports vlan id, protocol and parent");
	}
	r = nl_link_add(
	    h_a, &(struct nl_link_spec){
		     .name = "v1", .kind = "vlan", .parent = NL_DEV("dum0"), .vlan.id = 4095 });
	check_r(h_a, r, -EINVAL, "vlan id 4095 is refused before the kernel");

	/* macvlan */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "mv0",
						     .kind = "macvlan",
						     .parent = NL_DEV("dum0"),
						     .macvlan.mode = NL_MACVLAN_PRIVATE });
	if (r == -EOPNOTSUPP)
		skip("kernel without CONFIG_MACVLAN", "macvlan link");
	else if (check_r(h_a, r, 0, "create macvlan mv0 (private) on dum0")) {
		snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev mv0", ns_a);
		SHOWS(cmd, "ip shows macvlan mode private on dum0", "\"info_kind\":\"macvlan\"",
		      "\"mode\":\"private\"", "\"link\":\"dum0\"");
		r = nl_link_get(h_a, NL_DEV("mv0"), &l);
		CHECK(r == 0 && l.macvlan_mode == NL_MACVLAN_PRIVATE &&
			  !strcmp(l.link_name, "dum0") && !strcmp(l.kind, "macvlan"),
		      "nl_link_get reports macvlan mode and parent");
	}

	/* vxlan */
	r = nl_link_add(
	    h_a, &(struct nl_link_spec){
		     .name = "vx0",
		     .kind = "vxlan",
		     .parent = NL_DEV("dum0"),
		     .vxlan = { .vni = 42, .remote = A("10.99.0.2"), .local = A("10.99.0.1") },
		 });
	if (r == -EOPNOTSUPP)
		skip("kernel without CONFIG_VXLAN", "vxlan link");
	else if (check_r(h_a, r, 0, "create vxlan vx0 vni 42 remote/local, port 4789, on dum0")) {
		snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev vx0", ns_a);
		SHOWS(cmd, "ip shows the vxlan options", "\"info_kind\":\"vxlan\"", "\"id\":42",
		      "\"remote\":\"10.99.0.2\"", "\"local\":\"10.99.0.1\"", "\"port\":4789",
		      "\"link\":\"dum0\"");
		r = nl_link_get(h_a, NL_DEV("vx0"), &l);
		CHECK(r == 0 && l.vxlan_vni == 42 && l.vxlan_port == 4789 &&
			  l.vxlan_link == nl_link_ifindex(h_a, "dum0"),
		      "nl_link_get reports vni, port and underlay");
		r = nl_link_add(h_a,
				&(struct nl_link_spec){
				    .name = "vx6",
				    .kind = "vxlan",
				    .vxlan = { .vni = 7, .remote = A("fd99::2"), .port = 8472 } });
		check_r(h_a, r, 0, "create vxlan over IPv6 with port 8472");
		snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev vx6", ns_a);
		SHOWS(cmd, "ip shows the IPv6 vxlan", "\"remote6\":\"fd99::2\"", "\"port\":8472");
	}

	/* unknown kind: the kernel's own words come back */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "bad0", .kind = "nosuchkind" });
	check_r(h_a, r, -EOPNOTSUPP, "unknown kind: -EOPNOTSUPP");
	CHECK(nl_last_error(h_a) && strstr(nl_last_error(h_a), "Unknown device type"),
	      "... with the kernel's extack text (\"%s\")",
	      nl_last_error(h_a) ? nl_last_error(h_a) : "(null)");

	/* attach / detach */
	nl_link_add(h_hub,
		    &(struct nl_link_spec){ .name = "p0", .kind = "veth", .peer.name = "p1" });
	r = nl_link_set(h_hub, NL_DEV("p0"), &(struct nl_link_change){ .master = NL_DEV("br0") });
	check_r(h_hub, r, 0, "attach p0 to br0");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j link show dev p0", ns_hub);
	SHOWS(cmd, "ip shows p0 master br0", "\"master\":\"br0\"");
	r = nl_link_set(h_hub, NL_DEV("p0"), &(struct nl_link_change){ .nomaster = true });
	check_r(h_hub, r, 0, "detach p0");
	LACKS(cmd, "ip shows p0 without master", "\"master\"");

	/* rename and every attribute at once, addrgen before up */
	r = nl_link_set(h_hub, NL_DEV("p1"), &(struct nl_link_change){ .rename = "p1new" });
	check_r(h_hub, r, 0, "rename p1 to p1new");
	CHECK(has_link(h_hub, "p1new") && !has_link(h_hub, "p1"), "p1new exists, p1 does not");
	nl_parse_mac("02:11:22:33:44:55", mac);
	r = nl_link_set(h_hub, NL_DEV("p1new"),
			&(struct nl_link_change){ .mtu = 1300,
						  .mac = mac,
						  .ifalias = "netnsd:p1",
						  .addrgen = NL_ADDRGEN_NONE,
						  .up = NL_ON });
	check_r(h_hub, r, 0, "set mtu, mac, ifalias, addrgen none and up on p1new");
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev p1new", ns_hub);
	SHOWS(cmd, "ip shows mtu 1300, the mac, ifalias, addrgenmode none, up", "\"mtu\":1300",
	      "\"address\":\"02:11:22:33:44:55\"", "\"ifalias\":\"netnsd:p1\"",
	      "\"inet6_addr_gen_mode\":\"none\"", "\"UP\"");
	r = nl_link_get(h_hub, NL_DEV("p1new"), &l);
	CHECK(r == 0 && l.mtu == 1300 && l.addrgen == NL_ADDRGEN_NONE &&
		  !strcmp(l.ifalias, "netnsd:p1") && l.up && !strcmp(l.link_name, "p0"),
	      "nl_link_get agrees, and names the peer p0");
	r = nl_link_set(
	    h_hub, NL_DEV("p1new"),
	    &(struct nl_link_change){ .ifalias = "", .up = NL_OFF, .addrgen = NL_ADDRGEN_EUI64 });
	check_r(h_hub, r, 0, "clear ifalias, addrgen eui64, down");
	LACKS(cmd, "ip shows no ifalias and not UP", "\"ifalias\"", "\"UP\"");
	nl_link_del(h_hub, NL_DEV("p0"));

	/* addrgen at creation: no link-local address ever appears */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "ag0",
						     .kind = phys_kind,
						     .up = true,
						     .addrgen = NL_ADDRGEN_NONE,
						     .ifalias = "netnsd:ag0" });
	check_r(h_a, r, 0, "create %s ag0 with addrgen none, ifalias, up", phys_kind);
	nl_link_add(h_a, &(struct nl_link_spec){ .name = "ag1", .kind = phys_kind, .up = true });
	snprintf(cmd, sizeof(cmd), "ip -n %s -d -j link show dev ag0", ns_a);
	SHOWS(cmd, "ip shows ag0 addrgenmode none, ifalias, up", "\"inet6_addr_gen_mode\":\"none\"",
	      "\"ifalias\":\"netnsd:ag0\"", "\"UP\"");
	snprintf(cmd, sizeof(cmd), "ip -n %s -6 -j addr show dev ag0", ns_a);
	LACKS(cmd, "ag0 has no IPv6 link-local address", "fe80");
	snprintf(cmd, sizeof(cmd), "ip -n %s -6 -j addr show dev ag1", ns_a);
	SHOWS(cmd, "while ag1, created the same way without addrgen, has one", "fe80");

	/* a follow-up that fails undoes the creation */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "ag2",
						     .kind = phys_kind,
						     .up = true,
						     .addrgen = NL_ADDRGEN_STABLE_PRIVACY });
	if (r == 0)
		skip("this kernel accepts stable_privacy without a secret",
		     "failed follow-up rolls back");
	else {
		check_r(h_a, r, -EINVAL, "addrgen stable_privacy without a stable secret fails");
		CHECK(!has_link(h_a, "ag2"), "... and the link it had created is gone again");
	}

	/* errors */
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "dum0", .kind = phys_kind });
	check_r(h_a, r, -EEXIST, "create an existing name: -EEXIST");
	r = nl_link_add(h_a, &(struct nl_link_spec){
				 .name = "ag0", .kind = phys_kind, .ifalias = "netnsd:stolen" });
	check_r(h_a, r, -EEXIST, "create an existing name with ifalias: -EEXIST");
	r = nl_link_get(h_a, NL_DEV("ag0"), &l);
	CHECK(r == 0 && !strcmp(l.ifalias, "netnsd:ag0"),
	      "... and the existing link keeps its own ifalias");
	check_r(h_a, nl_link_del(h_a, NL_DEV("nosuch0")), -ENODEV,
		"delete a missing link: -ENODEV");
	check_r(h_a, nl_link_get(h_a, NL_DEV("nosuch0"), &l), -ENODEV,
		"get a missing link: -ENODEV");
	check_r(h_a, nl_link_ifindex(h_a, "nosuch0"), -ENODEV, "look up a missing link: -ENODEV");
	r = nl_link_set(h_a, NL_DEV("dum0"),
			&(struct nl_link_change){ .master = NL_DEV("nosuchbr") });
	check_r(h_a, r, -ENODEV, "attach to a missing master: -ENODEV");
	CHECK(nl_last_error(h_a) && strstr(nl_last_error(h_a), "nosuchbr"),
	      "... saying which (\"%s\")", nl_last_error(h_a) ? nl_last_error(h_a) : "(null)");
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "waytoolongname16", .kind = "dummy" });
	check_r(h_a, r, -EINVAL, "a 16-byte name is refused before the kernel");
	CHECK(nl_last_error(h_a) != NULL, "... with a reason (\"%s\")",
	      nl_last_error(h_a) ? nl_last_error(h_a) : "");
	r = nl_link_add(h_a, &(struct nl_link_spec){ .name = "vv", .kind = "veth" });
	check_r(h_a, r, -EINVAL, "a veth without peer name is refused");
	r = nl_link_set(h_a, NL_DEV("dum0"),
			&(struct nl_link_change){
			    .move_netns = true, .netns_fd = fd_b, .master = NL_DEV("br0") });
	check_r(h_a, r, -EINVAL, "master together with a move is refused");
}

static void test_move(void)
{
	char orig[IFNAMSIZ], cmd[256];
	struct nl_link_info l;
	int r;

	/* A "physical" NIC of the host goes into namespace a under another name, and back. */
	snprintf(orig, sizeof(orig), "%sd", prefix);
	r = nl_link_add(h_host,
			&(struct nl_link_spec){ .name = orig, .kind = phys_kind, .mtu = 1450 });
	check_r(h_host, r, 0, "create %s %s in the host", phys_kind, orig);
	r = nl_link_set(h_host, NL_DEV(orig),
			&(struct nl_link_change){
			    .move_netns = true, .netns_fd = fd_a, .rename = "phy0", .up = NL_ON });
	check_r(h_host, r, 0, "move %s into namespace a as phy0, up, in one call", orig);
	snprintf(cmd, sizeof(cmd), "ip -n %s -j link show dev phy0", ns_a);
	SHOWS(cmd, "ip shows phy0 in namespace a, up, mtu kept", "\"ifname\":\"phy0\"", "\"UP\"",
	      "\"mtu\":1450");
	CHECK(!has_link(h_host, orig), "%s is gone from the host", orig);

	r = nl_link_set(
	    h_a, NL_DEV("phy0"),
	    &(struct nl_link_change){ .move_netns = true, .netns_fd = host_fd, .rename = orig });
	check_r(h_a, r, 0, "move phy0 back to the host under its original name");
	r = nl_link_get(h_host, NL_DEV(orig), &l);
	CHECK(r == 0 && l.mtu == 1450 && !strcmp(l.kind, phys_kind), "%s is back in the host",
	      orig);
	snprintf(cmd, sizeof(cmd), "ip -j link show dev %s", orig);
	SHOWS(cmd, "ip shows it in the host", orig);
	CHECK(!has_link(h_a, "phy0"), "phy0 is gone from namespace a");

	/* without rename: moves by name, no lookup */
	r = nl_link_set(h_host, NL_DEV(orig),
			&(struct nl_link_change){ .move_netns = true, .netns_fd = fd_b });
	check_r(h_host, r, 0, "move %s to namespace b keeping its name", orig);
	CHECK(has_link(h_b, orig) && !has_link(h_host, orig), "it is in b under the same name");
	nl_link_del(h_b, NL_DEV(orig));
}

static void test_addrs(void)
{
	struct nl_addr_info *addrs = NULL;
	char cmd[256];
	int n, r;
	bool v4 = false, v6 = false;

	r = nl_addr_add(h_a, NL_DEV("eth0"), PP("10.77.0.1/24"), 0);
	check_r(h_a, r, 0, "add 10.77.0.1/24 to eth0 in a");
	r = nl_addr_add(h_a, NL_DEV("eth0"), PP("fd77::1/64"), NL_ADDR_NODAD);
	check_r(h_a, r, 0, "add fd77::1/64 (nodad) to eth0 in a");
	nl_addr_add(h_b, NL_DEV("eth0"), PP("10.77.0.2/24"), 0);
	nl_addr_add(h_b, NL_DEV("eth0"), PP("fd77::2/64"), NL_ADDR_NODAD);
	snprintf(cmd, sizeof(cmd), "ip -n %s -j addr show dev eth0", ns_a);
	SHOWS(cmd, "ip shows both addresses, the v4 broadcast, no tentative v6",
	      "\"local\":\"10.77.0.1\",\"prefixlen\":24,\"broadcast\":\"10.77.0.255\"",
	      "\"local\":\"fd77::1\",\"prefixlen\":64");
	SHOWS(cmd, "... and the v6 one is marked nodad",
	      "\"local\":\"fd77::1\",\"prefixlen\":64,\"scope\":\"global\",\"nodad\":true");

	r = nl_addr_add(h_a, NL_DEV("eth0"), PP("10.77.0.1/24"), 0);
	check_r(h_a, r, -EEXIST, "adding it again: -EEXIST");
	r = nl_addr_add(h_a, NL_DEV("nosuch0"), PP("10.77.9.1/24"), 0);
	check_r(h_a, r, -ENODEV, "adding to a missing device: -ENODEV");
	CHECK(nl_last_error(h_a) && strstr(nl_last_error(h_a), "nosuch0"), "... naming it (\"%s\")",
	      nl_last_error(h_a) ? nl_last_error(h_a) : "(null)");

	r = nl_addr_add(h_a, NL_DEV("eth0"), PP("10.79.0.0/31"), 0);
	check_r(h_a, r, 0, "add 10.79.0.0/31");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j addr show dev eth0 to 10.79.0.0/31", ns_a);
	SHOWS(cmd, "ip shows the /31", "\"local\":\"10.79.0.0\",\"prefixlen\":31");
	LACKS(cmd, "... without broadcast", "broadcast");
	r = nl_addr_del(h_a, NL_DEV("eth0"), PP("10.79.0.0/31"));
	check_r(h_a, r, 0, "delete it");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j addr show dev eth0", ns_a);
	LACKS(cmd, "ip no longer shows it", "10.79.0.0");
	r = nl_addr_del(h_a, NL_DEV("eth0"), PP("10.79.0.0/31"));
	check_r(h_a, r, -EADDRNOTAVAIL, "deleting it again: -EADDRNOTAVAIL");

	n = nl_addr_list(h_a, AF_UNSPEC, NL_DEV("eth0"), &addrs);
	for (int i = 0; i < n; i++) {
		if (!strcmp(addrs[i].address, "10.77.0.1") && addrs[i].prefix.prefixlen == 24 &&
		    !strcmp(addrs[i].dev, "eth0") && addrs[i].scope == RT_SCOPE_UNIVERSE)
			v4 = true;
		if (!strcmp(addrs[i].address, "fd77::1") && addrs[i].prefix.family == AF_INET6 &&
		    addrs[i].prefix.prefixlen == 64 && !strcmp(addrs[i].dev, "eth0") &&
		    (addrs[i].flags & IFA_F_NODAD) && !(addrs[i].flags & IFA_F_TENTATIVE))
			v6 = true;
	}
	CHECK(n >= 2 && v4 && v6,
	      "nl_addr_list finds both with device name, prefix and flags (%d entries)", n);
	free(addrs);
	addrs = NULL;
	n = nl_addr_list(h_a, AF_INET6, NL_DEV(NULL), &addrs);
	v4 = false;
	for (int i = 0; i < n; i++)
		if (addrs[i].prefix.family != AF_INET6)
			v4 = true;
	CHECK(n >= 1 && !v4, "nl_addr_list filters by family (%d IPv6 entries)", n);
	free(addrs);

	CHECK(ping(fd_a, "10.77.0.2"), "IPv4 ping from a to b over veth + bridge");
	CHECK(ping(fd_a, "fd77::2"), "IPv6 ping from a to b over veth + bridge");
	CHECK(ping(fd_b, "10.77.0.1"), "IPv4 ping from b to a");
}

static bool route_in(const struct nl_route_info *rs, int n, const char *dst, unsigned len,
		     const char *gw, const char *dev, uint32_t metric, uint32_t table)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(rs[i].dst_str, dst) && rs[i].dst.prefixlen == len &&
		    !strcmp(rs[i].gateway_str, gw) && !strcmp(rs[i].dev, dev) &&
		    rs[i].metric == metric && rs[i].table == table)
			return true;
	return false;
}

static void test_routes(void)
{
	struct nl_route_info *rs = NULL;
	struct nl_route_spec r4;
	char cmd[256];
	int n, r;
	bool local;

	r4 = (struct nl_route_spec){ .gateway = A("10.77.0.2"),
				     .dev = NL_DEV("eth0"),
				     .metric = 100 };
	check_r(h_a, nl_route_add(h_a, &r4), 0, "IPv4 default via 10.77.0.2 dev eth0 metric 100");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j route show default", ns_a);
	SHOWS(cmd, "ip shows it", "\"dst\":\"default\",\"gateway\":\"10.77.0.2\",\"dev\":\"eth0\"",
	      "\"metric\":100");
	check_r(h_a, nl_route_add(h_a, &r4), -EEXIST, "adding it again: -EEXIST");
	r4.replace = true;
	check_r(h_a, nl_route_add(h_a, &r4), 0, "... or replacing it: fine");

	r = nl_route_add(h_a, &(struct nl_route_spec){ .dst = P("10.88.0.0/16"),
						       .gateway = A("10.77.0.2"),
						       .metric = 5,
						       .table = 100 });
	check_r(h_a, r, 0, "10.88.0.0/16 via 10.77.0.2 metric 5 table 100");
	r = nl_route_add(
	    h_a, &(struct nl_route_spec){ .dst = P("10.89.0.0/24"), .dev = NL_DEV("eth0") });
	check_r(h_a, r, 0, "10.89.0.0/24 dev eth0 (on-link)");
	r = nl_route_add(
	    h_a, &(struct nl_route_spec){ .dst = P("10.90.0.0/24"), .type = RTN_BLACKHOLE });
	check_r(h_a, r, 0, "blackhole 10.90.0.0/24");
	r = nl_route_add(h_a, &(struct nl_route_spec){ .dst = P("10.91.0.0/24"),
						       .gateway = A("10.77.0.2"),
						       .table = 70000 });
	check_r(h_a, r, 0, "10.91.0.0/24 in table 70000 (beyond 8 bits)");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j route show table 100", ns_a);
	SHOWS(cmd, "ip shows the table 100 route",
	      "\"dst\":\"10.88.0.0/16\",\"gateway\":\"10.77.0.2\"", "\"metric\":5");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j route show table main", ns_a);
	SHOWS(cmd, "ip shows the on-link and blackhole routes",
	      "\"dst\":\"10.89.0.0/24\",\"dev\":\"eth0\"", "\"scope\":\"link\"",
	      "\"type\":\"blackhole\",\"dst\":\"10.90.0.0/24\"");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j route show table 70000", ns_a);
	SHOWS(cmd, "ip shows the table 70000 route", "\"dst\":\"10.91.0.0/24\"");

	r = nl_route_add(h_a, &(struct nl_route_spec){ .gateway = A("fd77::2"), .metric = 200 });
	check_r(h_a, r, 0, "IPv6 default via fd77::2 metric 200");
	r = nl_route_add(h_a, &(struct nl_route_spec){
				  .dst = P("fd88::/48"), .dev = NL_DEV("eth0"), .table = 100 });
	check_r(h_a, r, 0, "fd88::/48 dev eth0 table 100");
	r = nl_route_add(h_a, &(struct nl_route_spec){ .dst = P("fd89::/64"),
						       .gateway = A("fd77::2"),
						       .dev = NL_DEV("eth0"),
						       .metric = 7 });
	check_r(h_a, r, 0, "fd89::/64 via fd77::2 dev eth0 metric 7");
	snprintf(cmd, sizeof(cmd), "ip -n %s -6 -j route show", ns_a);
	SHOWS(cmd, "ip shows the IPv6 routes", "\"dst\":\"default\",\"gateway\":\"fd77::2\"",
	      "\"metric\":200", "\"dst\":\"fd89::/64\",\"gateway\":\"fd77::2\",\"dev\":\"eth0\"");
	snprintf(cmd, sizeof(cmd), "ip -n %s -6 -j route show table 100", ns_a);
	SHOWS(cmd, "ip shows the IPv6 table 100 route", "\"dst\":\"fd88::/48\",\"dev\":\"eth0\"");

	r = nl_route_add(
	    h_a, &(struct nl_route_spec){ .dst = P("10.92.0.1/24"), .dev = NL_DEV("eth0") });
	check_r(h_a, r, -EINVAL, "a destination with host bits is refused");
	r = nl_route_add(
	    h_a, &(struct nl_route_spec){ .dst = P("10.93.0.0/24"), .gateway = A("10.55.0.1") });
	check_r(h_a, r, -ENETUNREACH, "a gateway on no link: -ENETUNREACH");
	CHECK(nl_last_error(h_a) != NULL, "... with the kernel's text (\"%s\")",
	      nl_last_error(h_a) ? nl_last_error(h_a) : "(null)");
	r = nl_route_add(h_a, &(struct nl_route_spec){ .dev = NL_DEV("eth0") });
	check_r(h_a, r, -EINVAL, "a route with neither destination nor gateway family is refused");

	n = nl_route_list(h_a, AF_UNSPEC, 0, &rs);
	local = false;
	for (int i = 0; i < n; i++)
		if (rs[i].table == NL_TABLE_LOCAL)
			local = true;
	CHECK(n > 0 && !local && route_in(rs, n, "0.0.0.0", 0, "10.77.0.2", "eth0", 100, 254) &&
		  route_in(rs, n, "10.88.0.0", 16, "10.77.0.2", "eth0", 5, 100) &&
		  route_in(rs, n, "10.91.0.0", 24, "10.77.0.2", "eth0", 0, 70000) &&
		  route_in(rs, n, "::", 0, "fd77::2", "eth0", 200, 254) &&
		  route_in(rs, n, "fd88::", 48, "", "eth0", 1024, 100),
	      "nl_route_list (all but local) has every route, no local-table entry (%d)", n);
	free(rs);
	rs = NULL;
	n = nl_route_list(h_a, AF_INET, 100, &rs);
	CHECK(n == 1 && route_in(rs, n, "10.88.0.0", 16, "10.77.0.2", "eth0", 5, 100),
	      "nl_route_list AF_INET table 100: one (%d)", n);
	free(rs);
	rs = NULL;
	n = nl_route_list(h_a, AF_INET, NL_TABLE_ALL, &rs);
	local = false;
	for (int i = 0; i < n; i++)
		if (rs[i].table == NL_TABLE_LOCAL && rs[i].type == RTN_LOCAL &&
		    !strcmp(rs[i].dst_str, "10.77.0.1"))
			local = true;
	CHECK(local, "nl_route_list NL_TABLE_ALL includes the local table");
	free(rs);

	r = nl_route_del(h_a, &(struct nl_route_spec){ .dst = P("10.88.0.0/16"), .table = 100 });
	check_r(h_a, r, 0, "delete 10.88.0.0/16 from table 100");
	snprintf(cmd, sizeof(cmd), "ip -n %s -j route show table 100", ns_a);
	LACKS(cmd, "ip no longer shows it", "10.88.0.0");
	r = nl_route_del(h_a, &(struct nl_route_spec){ .dst = P("10.88.0.0/16"), .table = 100 });
	CHECK(r == -ESRCH || r == -ENOENT, "deleting it again: %s", errname(r));
	r = nl_route_del(h_a, &(struct nl_route_spec){ .gateway = A("fd77::2") });
	check_r(h_a, r, 0, "delete the IPv6 default route");
	r = nl_route_del(
	    h_a, &(struct nl_route_spec){ .dst = P("10.90.0.0/24"), .type = RTN_BLACKHOLE });
	check_r(h_a, r, 0, "delete the blackhole route");
}

static void test_batch(void)
{
	struct nl_link_info *links = NULL;
	size_t failed = 999;
	char name[IFNAMSIZ], peer[IFNAMSIZ];
	int r, n, found = 0;

	check_r(h_hub, nl_batch_begin(h_hub), 0, "nl_batch_begin");
	check_r(h_hub, nl_batch_begin(h_hub), -EBUSY, "a second nl_batch_begin: -EBUSY");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "q%d", i == 5 ? 2 : i);
		snprintf(peer, sizeof(peer), "r%d", i);
		r = nl_link_add(h_hub,
				&(struct nl_link_spec){
				    .name = name, .kind = "veth", .peer.name = peer, .up = true });
		if (r != 0)
			diag("queueing op %d returned %s", i, errname(r));
	}
	r = nl_batch_end(h_hub, &failed);
	check_r(h_hub, r, -EEXIST,
		"a batch of 10 veth creations with a duplicate at index 5 fails with -EEXIST");
	CHECK(failed == 5, "... reporting index 5 (got %zu)", failed);
	n = nl_link_list(h_hub, &links);
	for (int i = 0; i < n; i++)
		if (links[i].name[0] == 'q' && links[i].up && !strcmp(links[i].kind, "veth"))
			found++;
	CHECK(found == 9, "... and the other 9 exist and are up (%d)", found);
	free(links);

	/* more than one flush worth, ending with lookups that must see the queued changes */
	nl_batch_begin(h_hub);
	for (int i = 0; i < 300; i++)
		nl_link_set_up(h_hub, NL_DEV(i % 2 ? "q1" : "q3"), i % 3 != 0);
	nl_link_add(h_hub,
		    &(struct nl_link_spec){ .name = "qz", .kind = "veth", .peer.name = "rz" });
	r = nl_addr_add(h_hub, NL_DEV("qz"), PP("10.66.0.1/24"), 0);
	CHECK(r == 0, "inside a batch, an address on a link created earlier in it resolves (%s)",
	      errname(r));
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		nl_link_del(h_hub, NL_DEV(name));
	}
	r = nl_batch_end(h_hub, &failed);
	check_r(h_hub, r, -ENODEV, "a batch of 312 ops deleting q0..q9 (q5 never existed) fails");
	CHECK(failed == 307, "... at index 307, the delete of q5 (got %zu)", failed);
	CHECK(!has_link(h_hub, "q0") && !has_link(h_hub, "q9") && has_link(h_hub, "qz"),
	      "the other deletes happened");
	nl_link_del(h_hub, NL_DEV("qz"));
	check_r(h_hub, nl_batch_end(h_hub, NULL), -EINVAL, "nl_batch_end without a batch: -EINVAL");
}

static void test_nsid(void)
{
	int id = 0, r;

	r = nl_nsid_get(h_a, fd_b, &id);
	CHECK(r == 0 && id == -1, "namespace a has no id for b yet (%s, %d)", errname(r), id);
	r = nl_nsid_set(h_a, fd_b, 42);
	check_r(h_a, r, 42, "assign id 42 to b in a");
	r = nl_nsid_get(h_a, fd_b, &id);
	CHECK(r == 0 && id == 42, "nl_nsid_get reads 42 (%d)", id);
	r = nl_nsid_set(h_a, fd_b, 43);
	check_r(h_a, r, -EEXIST, "assigning another: -EEXIST");
	r = nl_nsid_set(h_b, fd_a, -1);
	CHECK(r >= 0, "let the kernel pick an id for a in b (%s)", errname(r));
	nl_nsid_get(h_b, fd_a, &id);
	CHECK(id == r, "... and read it back (%d)", id);
}

static void test_list(void)
{
	struct nl_link_info *links = NULL;
	bool lo = false, br = false, va = false;
	int n = nl_link_list(h_hub, &links);

	for (int i = 0; i < n; i++) {
		const struct nl_link_info *l = &links[i];

		if (!strcmp(l->name, "lo") && !l->kind[0] && l->ifindex == 1)
			lo = true;
		if (!strcmp(l->name, "br0") && !strcmp(l->kind, "bridge") && !l->bridge_stp &&
		    !strcmp(nl_operstate_to_string(l->operstate), "up"))
			br = true;
		if (!strcmp(l->name, "va") && !strcmp(l->master, "br0") && l->master_ifindex > 0 &&
		    l->link_netnsid >= 0 && !l->link_name[0] && l->carrier)
			va = true;
	}
	CHECK(n >= 4 && lo && br && va,
	      "nl_link_list: lo (no kind), br0 (bridge, up), va (master br0, peer elsewhere)");
	for (int i = 1; i < n; i++)
		if (links[i - 1].ifindex >= links[i].ifindex)
			lo = false;
	CHECK(lo, "... sorted by ifindex");
	free(links);
}

/* fds the test inherited: not ours to judge. */
static bool inherited[1024];

static void note_inherited_fds(void)
{
	for (int fd = 0; fd < 1024; fd++)
		inherited[fd] = fcntl(fd, F_GETFD) >= 0;
}

static void test_fds(void)
{
	bool ok = true;

	for (int fd = 3; fd < 1024; fd++) {
		int f = fcntl(fd, F_GETFD);

		if (!inherited[fd] && f >= 0 && !(f & FD_CLOEXEC)) {
			diag("fd %d is not close-on-exec", fd);
			ok = false;
		}
	}
	CHECK(ok, "every open fd is close-on-exec");
	CHECK(thread_ns_ino() == host_ino, "the thread is still in the host namespace");
}

/* ---- benchmark ---------------------------------------------------------------------------- */

/* One node: a veth from the host bridge into the node's namespace, lo up, an address. */
static int bench_round(const char *mode, int n, const int *fds, int br, bool batch, bool dump)
{
	struct nl_link_info *links = NULL;
	char name[IFNAMSIZ];
	size_t failed;
	struct rusage ru0, ru1;
	double t0 = now_ms(), t1, t2;
	int r = 0, nlinks = 0;
	int *peer = calloc((size_t)n, sizeof(int));

	getrusage(RUSAGE_SELF, &ru0);

	if (batch)
		nl_batch_begin(h_host);
	for (int i = 0; i < n && r == 0; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		r = nl_link_add(
		    h_host, &(struct nl_link_spec){
				.name = name,
				.kind = "veth",
				.up = true,
				.master = NL_IFINDEX(br),
				.peer = { .name = "eth0", .in_netns = true, .netns_fd = fds[i] },
			    });
	}
	if (batch && (r = nl_batch_end(h_host, &failed)) < 0)
		diag("bench %s: op %zu failed: %s (%s)", mode, failed, errname(r),
		     nl_last_error(h_host) ? nl_last_error(h_host) : "");
	if (dump) {
		/* One host dump tells every peer's ifindex (IFLA_LINK): no lookups in the nodes. */
		nlinks = nl_link_list(h_host, &links);
		for (int i = 0; i < nlinks; i++)
			if (links[i].name[0] == 'b' && atoi(links[i].name + 1) < n)
				peer[atoi(links[i].name + 1)] = links[i].link_ifindex;
		free(links);
	}
	t1 = now_ms();
	for (int i = 0; i < n && r == 0; i++) {
		struct nl_dev eth0 = dump ? NL_IFINDEX(peer[i]) : NL_DEV("eth0");
		struct nl_prefix p = { .family = AF_INET, .prefixlen = 16 };
		struct nl *h;

		p.bytes[0] = 10, p.bytes[1] = 100, p.bytes[2] = (uint8_t)(i >> 8),
		p.bytes[3] = (uint8_t)(i + 1);
		r = nl_open(fds[i], host_fd, &h);
		if (r < 0)
			break;
		if (batch)
			nl_batch_begin(h);
		r = nl_link_set_up(h, NL_IFINDEX(1), true);
		if (r == 0)
			r = nl_link_set_up(h, eth0, true);
		if (r == 0)
			r = nl_addr_add(h, eth0, &p, 0);
		if (batch && r == 0)
			r = nl_batch_end(h, &failed);
		if (r < 0)
			diag("bench %s: node %d failed: %s (%s)", mode, i, errname(r),
			     nl_last_error(h) ? nl_last_error(h) : "");
		nl_close(h);
	}
	t2 = now_ms();
	getrusage(RUSAGE_SELF, &ru1);
	diag("bench %-26s %d nodes: host side %.1f ms, namespace side %.1f ms, total %.1f ms (%.1f "
	     "us/node; "
	     "user CPU %.1f ms, system CPU %.1f ms)%s",
	     mode, n, t1 - t0, t2 - t1, t2 - t0, (t2 - t0) * 1000 / n,
	     tv_ms(&ru1.ru_utime) - tv_ms(&ru0.ru_utime),
	     tv_ms(&ru1.ru_stime) - tv_ms(&ru0.ru_stime), r ? " FAILED" : "");

	/* Delete the veths (their peers go with them), batched, so the next round starts clean. */
	nl_batch_begin(h_host);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "b%d", i);
		nl_link_del(h_host, NL_DEV(name));
	}
	if (nl_batch_end(h_host, &failed) < 0 && r == 0)
		r = -1;
	free(peer);
	return r;
}

static void test_bench(int n)
{
	struct rlimit rl;
	int *fds = calloc((size_t)n, sizeof(int)), br, r = 0;
	double t0;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)n + 64 && rl.rlim_max >= (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		if ((fds[i] = make_anon_ns()) < 0) {
			skip("cannot make namespaces", "benchmark");
			n = i;
			goto out;
		}
	diag("bench: %d namespaces created in %.1f ms (not counted below)", n, now_ms() - t0);
	nl_link_add(h_host, &(struct nl_link_spec){ .name = "bbr", .kind = "bridge", .up = true });
	br = nl_link_ifindex(h_host, "bbr");

	r |= bench_round("one call at a time", n, fds, br, false, false);
	r |= bench_round("batched", n, fds, br, true, false);
	r |= bench_round("batched, peers from a dump", n, fds, br, true, true);
	CHECK(r == 0, "benchmark: %d nodes built three ways", n);
	nl_link_del(h_host, NL_DEV("bbr"));
out:
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* ---- main --------------------------------------------------------------------------------- */

int main(void)
{
	const char *bench = getenv("NLT_BENCH");
	struct sigaction sa = { .sa_handler = on_signal };
	struct stat st;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	note_inherited_fds();
	if (geteuid() != 0) {
		printf("1..0 # SKIP test-nl needs root (network namespaces, rtnetlink changes)\n");
		return 77;
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		printf(
		    "1..0 # SKIP test-nl needs ip(8) from iproute2 to check the kernel's view\n");
		return 77;
	}

	test_parsers();

	/* From here on the machine's own namespace is never touched. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP cannot create a network namespace: %s\n", strerror(errno));
		return 77;
	}
	host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	fstat(host_fd, &st);
	host_ino = st.st_ino;
	snprintf(prefix, sizeof(prefix), "nlt%d", (int)getpid());
	atexit(remove_namespaces);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);

	fd_a = make_ns('a', ns_a);
	fd_b = make_ns('b', ns_b);
	fd_hub = make_ns('h', ns_hub);
	if (fd_a < 0 || fd_b < 0 || fd_hub < 0) {
		printf("Bail out! cannot create test namespaces with ip netns add\n");
		return 99;
	}

	r = nl_open(-1, -1, &h_host);
	if (r == 0)
		r = nl_open(fd_a, host_fd, &h_a);
	if (r == 0)
		r = nl_open(fd_b, host_fd, &h_b);
	if (r == 0)
		r = nl_open(fd_hub, host_fd, &h_hub);
	if (r < 0) {
		printf("Bail out! nl_open: %s\n", strerror(-r));
		return 99;
	}
	nl_link_set_up(h_b, NL_DEV("lo"), true);

	test_open();
	test_links();
	test_move();
	test_addrs();
	test_routes();
	test_batch();
	test_nsid();
	test_list();
	test_fds();
	if (!bench || atoi(bench) > 0)
		test_bench(bench ? atoi(bench) : 100);

	nl_close(h_host);
	nl_close(h_a);
	nl_close(h_b);
	nl_close(h_hub);
	close(fd_a);
	close(fd_b);
	close(fd_hub);
	close(host_fd);
	remove_namespaces();

	printf("1..%d\n", t_num);
	printf("# %d passed, %d failed, %d skipped\n", t_num - t_failed - t_skipped, t_failed,
	       t_skipped);
	return t_failed ? 1 : 0;
}
