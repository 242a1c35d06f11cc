/*
 * events.c: the event bus (see events.h).
 *
 * An event is encoded once, without its subscriber-specific members; each
 * subscriber's frame is that text with "subscription" and "seq" spliced in
 * front, so ten subscribers cost one json_dumps() and ten small copies.
 */
#include <string.h>

#include "events.h"
#include "log.h"
#include "util.h"

#define STALL_CHECK_MS 250

struct events_sub {
	unsigned long long id, seq, lost;
	unsigned topics;
	char *netns;
	bool host_only;
	const struct events_sub_ops *ops;
	void *owner;
	uint64_t over_since; /* monotonic usec when it went over the limit; 0: not over */
	bool cut;
	struct events_sub *prev, *next;
};

static const char *const topic_names[] = { "netns", "link", "addr",  "route",
					   "neigh", "proc", "daemon" };

static struct {
	uv_loop_t *loop;
	struct events_config cfg;
	struct events_sub *subs;
	unsigned long long next_id;
	uv_timer_t stall_timer;
	bool timer_running;
	struct events_stats stats;
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
	bus.loop = loop;
	bus.cfg = *cfg;
	bus.next_id = 1;
	uv_timer_init(loop, &bus.stall_timer);
	uv_unref((uv_handle_t *)&bus.stall_timer);
}

/* Subscriptions belong to their owners, who end them; this only stops the bus. */
void events_exit(void)
{
	if (bus.loop && !uv_is_closing((uv_handle_t *)&bus.stall_timer))
		uv_close((uv_handle_t *)&bus.stall_timer, NULL);
	bus.loop = NULL;
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

/* Frame = {"jsonrpc":"2.0","method":"event","params":{"subscription":I,"seq":N,BODY}\n */
static int send_frame(struct events_sub *s, unsigned long long seq, const char *body,
		      size_t body_len)
{
	char head[128];
	int hn = snprintf(head, sizeof(head),
			  "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":"
			  "{\"subscription\":%llu,\"seq\":%llu%s",
			  s->id, seq, body_len ? "," : "");
	size_t len = (size_t)hn + body_len + 3;
	char *frame = malloc(len + 1);

	if (!frame)
		return -ENOMEM;
	memcpy(frame, head, (size_t)hn);
	memcpy(frame + hn, body, body_len);
	memcpy(frame + hn + body_len, "}}\n", 4);
	return s->ops->send(s->owner, frame, len);
}

static void deliver(struct events_sub *s, const char *body, size_t body_len)
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
		if (send_frame(s, seq, ob, (size_t)n) < 0)
			return;
	}
	if (send_frame(s, s->seq, body, body_len) == 0)
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

void events_publish(enum event_topic topic, const char *action, const char *netns, const char *key,
		    json_t *obj, json_t *extra)
{
	_cleanup_(freep) char *body = NULL;
	size_t len;
	bool any = false;

	bus.stats.published++;
	for (struct events_sub *s = bus.subs; s && !any; s = s->next)
		any = matches(s, topic, netns);
	if (!any) {
		json_decref(obj);
		json_decref(extra);
		return;
	}
	body = encode_body(topic, action, netns, key, obj, extra, &len);
	if (!body)
		return;
	for (struct events_sub *s = bus.subs, *next; s; s = next) {
		next = s->next;
		if (matches(s, topic, netns))
			deliver(s, body, len);
	}
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
		deliver(s, body, len);
}

void events_send_control(struct events_sub *s, const char *action)
{
	_cleanup_(freep) char *body = NULL;
	size_t len;

	body = encode_body(EVENT_DAEMON, action, NULL, NULL, NULL, NULL, &len);
	if (body)
		deliver(s, body, len);
}
