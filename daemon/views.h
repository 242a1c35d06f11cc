/*
 * views.h: the JSON shape of kernel objects, one function per object: what
 * link.list, addr.list and route.list return and what events carry, so a
 * subscriber sees exactly what a list would show.  "managed" comes from the
 * desired state.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "nl.h"

json_t *view_link(const char *netns, const struct nl_link_info *l);
/*
 * Add member "impair" to a LINK view: the impairment root (the link's root qdisc, or NULL)
 * carries, when it carries one, or always ({} for none).
 */
struct tc_root;
void view_link_impair(json_t *view, const struct tc_root *root, bool always);
/* a->dev must be filled in. */
json_t *view_addr(const char *netns, const struct nl_addr_info *a);
/* r->dev must be filled in (or empty for none). */
json_t *view_route(const char *netns, const struct nl_route_info *r);
const char *view_route_type(unsigned type);
