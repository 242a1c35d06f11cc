/*
 * methods.h: the method table, assembled from one table per family (see
 * method_families.h); the shared context of the families is method_ctx.h.
 */
#pragma once

#include "method_ctx.h"

/* Keep ctx (see method_ctx_init()) and register every family with dispatch. */
int methods_init(const struct method_ctx *ctx);
void methods_exit(void);
