/*
 * fuzz.h: what every libFuzzer harness of netnsd shares: the entry point's
 * prototype and CHECK(), which aborts with the file, line and condition when
 * an invariant of the code under test does not hold (libFuzzer then saves
 * the input as a crash).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
