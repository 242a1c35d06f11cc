/*
 * netnsd-fd: descriptor passing with netnsd, from C.  An example for tools
 * that take namespace and process handles from netnsd instead of paths.
 *
 *	netnsd-fd [-s SOCKET] links NAME
 *		netns.open NAME, check the descriptor's inode against the reply,
 *		setns() into it and print its links ("INDEX NAME" per line, from
 *		if_nameindex(), which asks the kernel of the current namespace).
 *
 *	netnsd-fd [-s SOCKET] wait [-n NETNS] -- PROGRAM [ARG]...
 *		proc.spawn with "pidfd": true, poll() the pidfd until the program
 *		exits, then print proc.wait's result (the exit status).  The
 *		program is a child of netnsd's supervisor, not ours, so waitid()
 *		cannot be used on the pidfd; POLLIN on it means "exited".
 *
 * Replies that carry descriptors must be read with recvmsg(): read() would
 * make the kernel discard the descriptors.  They arrive with the bytes of
 * their reply line or earlier, never later, in the order of the lines that
 * name them; this program sends one request at a time, so whatever came
 * while it read a line belongs to that line.  "fd": I in a result is the
 * I-th descriptor of the line.
 *
 * Exit status: 0, 1 on an error (from netnsd or the system), 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* normally defined by configure (config.h) */
#endif
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_FDS 64 /* netnsd passes at most this many with one line */

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	int fds[MAX_FDS];
	unsigned nfds;
	long long next_id;
};

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* One recvmsg(): bytes into the buffer, descriptors onto the list. */
static int conn_fill(struct conn *c)
{
	char cbuf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	ssize_t n;

	if (c->cap - c->len < 4096) {
		char *p = realloc(c->buf, c->cap + 65536);

		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap += 65536;
	}
	iov = (struct iovec){ c->buf + c->len, c->cap - c->len };
	do
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_CTRUNC)
		return -EMSGSIZE;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->nfds < MAX_FDS)
				c->fds[c->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		return -ECONNRESET;
	c->len += (size_t)n;
	return 0;
}

static void conn_drop_fds(struct conn *c)
{
	for (unsigned i = 0; i < c->nfds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->nfds = 0;
}

/*
 * Call method; returns the result (caller's) or NULL after printing the
 * error.  The descriptors of the reply line are in c->fds.
 */
static json_t *conn_call(struct conn *c, const char *method, json_t *params)
{
	long long id = c->next_id++;
	json_t *req = json_pack("{s:s,s:I,s:s,s:o}", "jsonrpc", "2.0", "id", (json_int_t)id,
				"method", method, "params", params);
	char *text = json_dumps(req, JSON_COMPACT);
	size_t tlen = strlen(text);
	int r;

	json_decref(req);
	text[tlen] = '\n'; /* json_dumps leaves room for the NUL: reuse it */
	r = send(c->fd, text, tlen + 1, MSG_NOSIGNAL) == (ssize_t)tlen + 1 ? 0 : -errno;
	free(text);
	if (r < 0) {
		fprintf(stderr, "netnsd-fd: send: %s\n", strerror(-r));
		return NULL;
	}
	conn_drop_fds(c);
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		json_t *reply, *res;
		size_t used;

		if (!nl) {
			r = conn_fill(c);
			if (r < 0) {
				fprintf(stderr, "netnsd-fd: receive: %s\n", strerror(-r));
				return NULL;
			}
			continue;
		}
		used = (size_t)(nl - c->buf) + 1;
		reply = json_loadb(c->buf, used - 1, 0, NULL);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (!reply || json_integer_value(json_object_get(reply, "id")) != id) {
			json_decref(reply); /* an event, not our reply */
			continue;
		}
		res = json_incref(json_object_get(reply, "result"));
		if (!res)
			fprintf(stderr, "netnsd-fd: %s: %s\n", method,
				json_string_value(
				    json_object_get(json_object_get(reply, "error"), "message")));
		json_decref(reply);
		return res;
	}
}

/* The descriptor a result's member names, taken out of the list (caller's), or -1. */
static int take_indexed_fd(struct conn *c, json_t *result, const char *member)
{
	json_t *v = json_object_get(result, member);
	json_int_t i = json_integer_value(v);
	int fd;

	if (!json_is_integer(v) || i < 0 || i >= (json_int_t)c->nfds)
		return -1;
	fd = c->fds[i];
	c->fds[i] = -1;
	return fd;
}

static int cmd_links(struct conn *c, const char *name)
{
	json_t *res = conn_call(c, "netns.open", json_pack("{s:s}", "name", name));
	struct if_nameindex *ifs;
	struct stat st;
	int fd;

	if (!res)
		return 1;
	fd = take_indexed_fd(c, res, "fd");
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    (json_int_t)st.st_ino != json_integer_value(json_object_get(res, "inode"))) {
		fprintf(stderr, "netnsd-fd: no descriptor, or not the namespace netnsd named\n");
		json_decref(res);
		return 1;
	}
	json_decref(res);
	conn_drop_fds(c);
	/* Single-threaded: the whole process moves. */
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "netnsd-fd: setns: %m\n");
		return 1;
	}
	close(fd);
	ifs = if_nameindex();
	if (!ifs) {
		fprintf(stderr, "netnsd-fd: if_nameindex: %m\n");
		return 1;
	}
	for (struct if_nameindex *i = ifs; i->if_index; i++)
		printf("%u %s\n", i->if_index, i->if_name);
	if_freenameindex(ifs);
	return 0;
}

static int cmd_wait(struct conn *c, const char *netns, char **argv)
{
	json_t *args = json_array(), *res, *id;
	struct pollfd pfd;
	int r;

	for (; *argv; argv++)
		json_array_append_new(args, json_string(*argv));
	res = conn_call(c, "proc.spawn",
			json_pack("{s:o,s:b,s:s?}", "argv", args, "pidfd", 1, "netns", netns));
	if (!res)
		return 1;
	id = json_incref(json_object_get(res, "id"));
	pfd = (struct pollfd){ .fd = take_indexed_fd(c, res, "pidfd"), .events = POLLIN };
	json_decref(res);
	conn_drop_fds(c);
	/* pidfd null: it ended before netnsd could open one; proc.wait answers at once. */
	if (pfd.fd >= 0) {
		do
			r = poll(&pfd, 1, -1);
		while (r < 0 && errno == EINTR);
		close(pfd.fd);
	}
	/* Exited; netnsd has or will shortly have its status from the supervisor. */
	res = conn_call(c, "proc.wait", json_pack("{s:o}", "id", id));
	if (!res)
		return 1;
	json_dumpf(res, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(res);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "Usage: netnsd-fd [-s SOCKET] links NAME\n"
			"       netnsd-fd [-s SOCKET] wait [-n NETNS] -- PROGRAM [ARG]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = getenv("NETNSD_SOCKET") ?: "/run/netnsd/netnsd.sock";
	struct conn c;
	int i = 1, r;

	if (i + 1 < argc && !strcmp(argv[i], "-s")) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc)
		return usage();
	r = conn_open(&c, path);
	if (r < 0) {
		fprintf(stderr, "netnsd-fd: %s: %s\n", path, strerror(-r));
		return 1;
	}
	if (!strcmp(argv[i], "links") && i + 2 == argc)
		r = cmd_links(&c, argv[i + 1]);
	else if (!strcmp(argv[i], "wait")) {
		const char *netns = NULL;

		i++;
		if (i + 1 < argc && !strcmp(argv[i], "-n")) {
			netns = argv[i + 1];
			i += 2;
		}
		if (i + 1 >= argc || strcmp(argv[i], "--"))
			return usage();
		r = cmd_wait(&c, netns, argv + i + 1);
	} else
		return usage();
	conn_drop_fds(&c);
	free(c.buf);
	close(c.fd);
	return r;
}
