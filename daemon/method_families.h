/*
 * method_families.h: the contract of the method families with the assembler.
 * Each family file (daemon_methods.c, netns_methods.c, ...) translates JSON
 * params into calls of its domain module and the result back into JSON, and
 * exports its table and hooks declared here; methods.c puts them together.
 * A family includes this header for its own declarations and method_ctx.h
 * for what it shares with the others, never methods.h.
 */
#pragma once

#include <stddef.h>

#include "dispatch.h"

extern const struct method daemon_methods[];
extern const size_t daemon_methods_count;
extern const struct method netns_methods[];
extern const size_t netns_methods_count;
extern const struct method link_methods[];
extern const size_t link_methods_count;
extern const struct method addr_methods[];
extern const size_t addr_methods_count;
extern const struct method route_methods[];
extern const size_t route_methods_count;
extern const struct method events_methods[];
extern const size_t events_methods_count;
extern const struct method proc_methods[];
extern const size_t proc_methods_count;
extern const struct method topology_methods[];
extern const size_t topology_methods_count;
extern const struct method peer_methods[];
extern const size_t peer_methods_count;

/* The proc family: events from the supervisor, and services started again after a reboot. */
int proc_methods_init(void);
int proc_methods_restore(void);
void proc_methods_exit(void);

/* The events family registers a hook for peers that go away. */
void events_methods_init(void);
void events_methods_exit(void);

/* Free what the families cached or keep open. */
void daemon_methods_exit(void);
void netns_methods_exit(void);
