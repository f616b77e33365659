/* Assertions that stay on in release builds: programmer errors crash. */
#ifndef TCN_UTIL_ASSERT_H
#define TCN_UTIL_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define TCN_ASSERT(cond)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "tcn: assertion failed: %s (%s:%d)\n", #cond, __FILE__, \
                    __LINE__);                                                     \
            abort();                                                               \
        }                                                                          \
    } while (0)

#define TCN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
