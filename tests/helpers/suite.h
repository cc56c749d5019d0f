#pragma once
/* SPDX-License-Identifier: MIT */
/* suite.h - run a check suite (CK_FORK) and turn its result into an exit status */

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
