/*
 * events.c: the event bus (see events.h).
 *
 * An event is encoded once, without its subscriber-specific members; each
 * subscriber's frame is that text with "subscription" and "seq" spliced in
 * front, so ten subscribers cost one json_dumps() and ten small copies.
 * The ring keeps that same text, so a replay encodes nothing again.
 */
#include <string.h>
#include <sys/random.h>

#include "events.h"
#include "log.h"
#include "util.h"

#define STALL_CHECK_MS 250
/* Replay: events per subscriber per loop iteration, and the wait for a reader to drain. */
#define REPLAY_BATCH   1024
#define REPLAY_WAIT_MS 5

struct events_sub {
	unsigned long long id, seq, lost;
	unsigned topics;
	char *netns;
	bool host_only;
	const struct events_sub_ops *ops;
	void *owner;
	uint64_t over_since; /* monotonic usec when it went over the limit; 0: not over */
	bool cut;
	bool replaying;			/* gets ring events from replay_next, no live ones */
	unsigned long long replay_next; /* gseq */
	struct events_sub *prev, *next;
};

static const char *const topic_names[] = { "netns", "link", "addr",   "route",
					   "neigh", "proc", "daemon", "topology" };

/* One published event as the ring keeps it. */
struct ring_ev {
	unsigned long long gseq;
	enum event_topic topic;
	char *netns; /* NULL: the host */
	char *body;  /* encode_body()'s text */
	size_t len;
};

static struct {
	uv_loop_t *loop;
	struct events_config cfg;
	struct events_sub *subs;
	unsigned long long next_id;
	uv_timer_t stall_timer;
	bool timer_running;
	struct events_stats stats;
	char instance[33];
	unsigned long long gseq; /* the last published */
	uv_timer_t replay_timer;
	/* gseq g sits at ring[g % ring_events] while first <= g <= gseq. */
	struct ring_ev *ring;
	unsigned long long first;
} bus;

unsigned events_topic_from_string(const char *s)
{
	for (size_t i = 0; i < ELEMENTSOF(topic_names); i++)
		if (!strcmp(s, topic_names[i]))
			return 1u << i;
	return 0;
}

const char *events_topic_name(enum event_topic t)
{
	for (size_t i = 0; i < ELEMENTSOF(topic_names); i++)
		if (t == (1u << i))
			return topic_names[i];
	return "unknown";
}

void events_init(uv_loop_t *loop, const struct events_config *cfg)
{
	uint8_t id[16];

	bus.loop = loop;
	bus.cfg = *cfg;
	bus.next_id = 1;
	bus.gseq = 0;
	bus.first = 1;
	uv_timer_init(loop, &bus.stall_timer);
	uv_unref((uv_handle_t *)&bus.stall_timer);
	uv_timer_init(loop, &bus.replay_timer);
	if (bus.cfg.ring_events)
		bus.ring = calloc(bus.cfg.ring_events, sizeof(*bus.ring));
	if (!bus.ring)
		bus.cfg.ring_events = 0;
	/* Unpredictable, so a cursor from an earlier netnsd never passes for ours. */
	if (getrandom(id, sizeof(id), 0) != sizeof(id)) {
		uint64_t t = now_usec() ^ realtime_usec() ^ (uint64_t)getpid() << 32;

		memcpy(id, &t, sizeof(t));
		memcpy(id + 8, &t, sizeof(t));
	}
	for (size_t i = 0; i < sizeof(id); i++)
		snprintf(bus.instance + 2 * i, 3, "%02x", id[i]);
}

static void ring_drop_first(void)
{
	struct ring_ev *e = &bus.ring[bus.first % bus.cfg.ring_events];

	bus.stats.ring_events--;
	bus.stats.ring_bytes -= e->len;
	free(e->netns);
	free(e->body);
	memset(e, 0, sizeof(*e));
	bus.first++;
}

/* Subscriptions belong to their owners, who end them; this only stops the bus. */
void events_exit(void)
{
	while (bus.stats.ring_events)
		ring_drop_first();
	free(bus.ring);
	bus.ring = NULL;
	if (bus.loop && !uv_is_closing((uv_handle_t *)&bus.stall_timer)) {
		uv_close((uv_handle_t *)&bus.stall_timer, NULL);
		uv_close((uv_handle_t *)&bus.replay_timer, NULL);
	}
	bus.loop = NULL;
}

const char *events_instance(void)
{
	return bus.instance;
}

unsigned long long events_gseq(void)
{
	return bus.gseq;
}

const struct events_config *events_config(void)
{
	return &bus.cfg;
}

void events_get_stats(struct events_stats *ret)
{
	*ret = bus.stats;
}

struct events_sub *events_subscribe(unsigned topics, const char *netns, bool host_only,
				    const struct events_sub_ops *ops, void *owner)
{
	struct events_sub *s;

	if (bus.stats.subscriptions >= bus.cfg.max_subscriptions) {
		errno = ENOSPC;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || (netns && !(s->netns = strdup(netns)))) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->id = bus.next_id++;
	s->topics = topics ? topics : EVENT_ALL;
	s->host_only = host_only && !netns;
	s->ops = ops;
	s->owner = owner;
	s->next = bus.subs;
	if (bus.subs)
		bus.subs->prev = s;
	bus.subs = s;
	bus.stats.subscriptions++;
	return s;
}

void events_unsubscribe(struct events_sub *s)
{
	if (!s)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		bus.subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	bus.stats.subscriptions--;
	free(s->netns);
	free(s);
}

unsigned long long events_sub_id(const struct events_sub *s)
{
	return s->id;
}

static void on_stall_check(uv_timer_t *t);

static void arm_stall_timer(void)
{
	if (!bus.timer_running && bus.loop) {
		uv_timer_start(&bus.stall_timer, on_stall_check, STALL_CHECK_MS, STALL_CHECK_MS);
		bus.timer_running = true;
	}
}

static void cut_off(struct events_sub *s)
{
	if (s->cut)
		return;
	s->cut = true;
	bus.stats.cutoffs++;
	log_warning("Cutting off event subscriber %llu: %llu events lost, not read for %u ms",
		    s->id, s->lost, bus.cfg.stall_ms);
	s->ops->cutoff(s->owner); /* may unsubscribe s */
}

static void on_stall_check(uv_timer_t *t)
{
	uint64_t now = now_usec();
	bool any = false;

	for (struct events_sub *s = bus.subs, *next; s; s = next) {
		next = s->next;
		if (!s->over_since || s->cut)
			continue;
		if (s->ops->pending(s->owner) <= bus.cfg.backlog_bytes / 2) {
			s->over_since = 0;
			continue;
		}
		any = true;
		if (now - s->over_since >= bus.cfg.stall_ms * 1000ull)
			cut_off(s);
	}
	if (!any) {
		uv_timer_stop(t);
		bus.timer_running = false;
	}
}

/* Append text, then the decimal digits of v. */
static char *put(char *p, const char *text, size_t len, unsigned long long v)
{
	char digits[24], *d = digits + sizeof(digits);

	memcpy(p, text, len);
	p += len;
	do
		*--d = (char)('0' + v % 10);
	while (v /= 10);
	memcpy(p, d, (size_t)(digits + sizeof(digits) - d));
	return p + (digits + sizeof(digits) - d);
}

#define PUT(p, lit, v) put(p, lit, sizeof(lit) - 1, v)

/*
 * Frame = {"jsonrpc":"2.0","method":"event","params":{"subscription":I,"seq":N,BODY}\n
 * Sent in pieces (head, body, tail) where the receiver copies them, so that
 * one event to many subscribers costs no allocation per subscriber.
 */
static int send_frame(struct events_sub *s, unsigned long long seq, unsigned long long gseq,
		      const char *body, size_t body_len)
{
	char head[192], *p = head;

	p = PUT(p, "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"subscription\":", s->id);
	p = PUT(p, ",\"seq\":", seq);
	/* Only events of the daemon-wide stream have a gseq (not snapshots, gaps, overflows). */
	if (gseq)
		p = PUT(p, ",\"gseq\":", gseq);
	if (body_len)
		*p++ = ',';
	size_t hn = (size_t)(p - head), len = hn + body_len + 3;

	if (s->ops->send_parts) {
		const struct iovec iov[] = { { head, hn }, { (void *)body, body_len }, { "}}\n", 3 } };
		int r = s->ops->send_parts(s->owner, iov, 3);

		if (r != -EOPNOTSUPP)
			return r;
	}
	char *frame = malloc(len + 1);

	if (!frame)
		return -ENOMEM;
	memcpy(frame, head, hn);
	memcpy(frame + hn, body, body_len);
	memcpy(frame + hn + body_len, "}}\n", 4);
	return s->ops->send(s->owner, frame, len);
}

static void deliver(struct events_sub *s, unsigned long long gseq, const char *body,
		    size_t body_len)
{
	size_t pending;

	if (s->cut)
		return;
	s->seq++;
	pending = s->ops->pending(s->owner);
	if (pending + body_len + 128 > bus.cfg.backlog_bytes ||
	    (s->lost && pending > bus.cfg.backlog_bytes / 2)) {
		/* Lost: its seq is skipped; the overflow event will account for it. */
		s->lost++;
		bus.stats.lost++;
		if (!s->over_since) {
			s->over_since = now_usec();
			arm_stall_timer();
		} else if (now_usec() - s->over_since >= bus.cfg.stall_ms * 1000ull) {
			cut_off(s);
		}
		return;
	}
	if (s->lost) {
		char ob[160];
		unsigned long long seq = s->seq, lost = s->lost;
		int n;

		/* The overflow notice takes the seq this event had; the event the next. */
		s->seq++;
		s->lost = 0;
		s->over_since = 0;
		n = snprintf(ob, sizeof(ob),
			     "\"time\":\"%s\",\"topic\":\"daemon\",\"action\":\"overflow\","
			     "\"netns\":null,\"lost\":%llu",
			     format_rfc3339(realtime_usec(), (char[32]){ 0 }), lost);
		if (send_frame(s, seq, 0, ob, (size_t)n) < 0)
			return;
	}
	if (send_frame(s, s->seq, gseq, body, body_len) == 0)
		bus.stats.delivered++;
}

static bool matches(const struct events_sub *s, enum event_topic topic, const char *netns)
{
	if (!(s->topics & topic))
		return false;
	if (topic == EVENT_DAEMON)
		return true;
	if (s->host_only)
		return !netns;
	if (!s->netns)
		return true;
	return netns && !strcmp(netns, s->netns);
}

/* The subscriber-independent part, without its enclosing braces. */
static char *encode_body(enum event_topic topic, const char *action, const char *netns,
			 const char *key, json_t *obj, json_t *extra, size_t *ret_len)
{
	char ts[32], *text;
	json_t *o;
	size_t n;

	o = json_pack("{s:s,s:s,s:s,s:o}", "time", format_rfc3339(realtime_usec(), ts), "topic",
		      events_topic_name(topic), "action", action, "netns",
		      netns ? json_string(netns) : json_null());
	if (!o) {
		json_decref(obj);
		json_decref(extra);
		return NULL;
	}
	if (key && obj)
		json_object_set_new(o, key, obj);
	else
		json_decref(obj);
	if (extra) {
		json_object_update(o, extra);
		json_decref(extra);
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return NULL;
	n = strlen(text);
	/* Strip the braces: the frame supplies its own. */
	memmove(text, text + 1, n - 2);
	text[n - 2] = '\0';
	*ret_len = n - 2;
	return text;
}

/*
 * Event gseq cannot be replayed (not kept): the ring holds a gap-free run,
 * so what it held before goes too, and replays from before it get a gap.
 */
static void ring_lose(unsigned long long gseq)
{
	while (bus.stats.ring_events)
		ring_drop_first();
	bus.first = gseq + 1;
}

/* Keep an event for replays, evicting the oldest beyond either bound; takes body. */
static void ring_push(enum event_topic topic, const char *netns, char *body, size_t len)
{
	struct ring_ev *e;

	if (!bus.cfg.ring_events) {
		free(body);
		ring_lose(bus.gseq);
		return;
	}
	while (bus.stats.ring_events && (bus.stats.ring_events >= bus.cfg.ring_events ||
					 bus.stats.ring_bytes + len > bus.cfg.ring_bytes))
		ring_drop_first();
	e = &bus.ring[bus.gseq % bus.cfg.ring_events];
	if (len > bus.cfg.ring_bytes || (netns && !(e->netns = strdup(netns)))) {
		/* Cannot be kept: everything up to it counts as lost to a replay. */
		free(body);
		ring_lose(bus.gseq);
		return;
	}
	e->gseq = bus.gseq;
	e->topic = topic;
	e->body = body;
	e->len = len;
	bus.stats.ring_events++;
	bus.stats.ring_bytes += len;
}

static void replay_arm(void);

void events_publish(enum event_topic topic, const char *action, const char *netns, const char *key,
		    json_t *obj, json_t *extra)
{
	_cleanup_(freep) char *body = NULL;
	unsigned long long gseq = ++bus.gseq;
	size_t len;
	bool any = false, replaying = false;

	bus.stats.published++;
	for (struct events_sub *s = bus.subs; s; s = s->next) {
		replaying |= s->replaying;
		any |= !s->replaying && matches(s, topic, netns);
	}
	if (!any && !bus.cfg.ring_events) {
		ring_lose(gseq);
		json_decref(obj);
		json_decref(extra);
		return;
	}
	body = encode_body(topic, action, netns, key, obj, extra, &len);
	if (!body) {
		ring_lose(gseq); /* lost to replays as well */
		return;
	}
	for (struct events_sub *s = bus.subs, *next; s; s = next) {
		next = s->next;
		if (!s->replaying && matches(s, topic, netns))
			deliver(s, gseq, body, len);
	}
	ring_push(topic, netns, TAKE_PTR(body), len);
	if (replaying)
		replay_arm(); /* replaying subscribers get it from the ring, in order */
}

/* Replays. */

unsigned long long events_ring_lost(unsigned long long since)
{
	return bus.first > since + 1 ? bus.first - since - 1 : 0;
}

void events_send_gap(struct events_sub *s, long long lost, const char *reason)
{
	_cleanup_(freep) char *body = NULL;
	size_t len;

	body = encode_body(EVENT_DAEMON, "gap", NULL, NULL, NULL,
			   json_pack("{s:o,s:s}", "lost",
				     lost < 0 ? json_null() : json_integer(lost), "reason", reason),
			   &len);
	if (body && send_frame(s, ++s->seq, 0, body, len) == 0)
		bus.stats.delivered++;
}

enum pump_state { PUMP_DONE, PUMP_MORE, PUMP_WAIT };

/* Send s the next ring events it is owed, as far as its reader keeps up. */
static enum pump_state pump(struct events_sub *s)
{
	unsigned n = 0;

	while (s->replaying && !s->cut) {
		const struct ring_ev *e;
		size_t pending;

		if (s->replay_next > bus.gseq) {
			s->replaying = false; /* caught up: live events from now on */
			return PUMP_DONE;
		}
		if (s->replay_next < bus.first) {
			/* Evicted before it could be sent (or never kept). */
			events_send_gap(s, (long long)(bus.first - s->replay_next), "ring");
			s->replay_next = bus.first;
			continue;
		}
		e = &bus.ring[s->replay_next % bus.cfg.ring_events];
		if (matches(s, e->topic, e->netns)) {
			pending = s->ops->pending(s->owner);
			if (pending > 0 && pending + e->len + 160 > bus.cfg.backlog_bytes / 2)
				return PUMP_WAIT;
			if (send_frame(s, ++s->seq, e->gseq, e->body, e->len) < 0) {
				s->replaying = false; /* the receiver is going away */
				return PUMP_DONE;
			}
			bus.stats.replayed++;
		}
		s->replay_next++;
		if (++n == REPLAY_BATCH)
			return PUMP_MORE;
	}
	return PUMP_DONE;
}

static void on_replay(uv_timer_t *t)
{
	enum pump_state state = PUMP_DONE;

	for (struct events_sub *s = bus.subs, *next; s; s = next) {
		enum pump_state st;

		next = s->next;
		if (!s->replaying)
			continue;
		st = pump(s);
		if (st == PUMP_MORE || (st == PUMP_WAIT && state == PUMP_DONE))
			state = st;
	}
	if (state == PUMP_DONE)
		uv_timer_stop(t);
	else
		uv_timer_start(t, on_replay, state == PUMP_MORE ? 0 : REPLAY_WAIT_MS, 0);
}

static void replay_arm(void)
{
	/* The next loop iteration, so everything published meanwhile goes in one turn. */
	if (bus.loop)
		uv_timer_start(&bus.replay_timer, on_replay, 0, 0);
}

void events_replay(struct events_sub *s, unsigned long long since)
{
	s->replaying = true;
	s->replay_next = since + 1;
	if (pump(s) != PUMP_DONE)
		replay_arm();
}

void events_send_to(struct events_sub *s, enum event_topic topic, const char *action,
		    const char *netns, const char *key, json_t *obj, json_t *extra)
{
	_cleanup_(freep) char *body = NULL;
	size_t len;

	if (!matches(s, topic, netns)) {
		json_decref(obj);
		json_decref(extra);
		return;
	}
	body = encode_body(topic, action, netns, key, obj, extra, &len);
	if (body)
		deliver(s, 0, body, len);
}

void events_send_control(struct events_sub *s, const char *action)
{
	_cleanup_(freep) char *body = NULL;
	size_t len;

	body = encode_body(EVENT_DAEMON, action, NULL, NULL, NULL, NULL, &len);
	if (body)
		deliver(s, 0, body, len);
}
