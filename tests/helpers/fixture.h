#pragma once
/* SPDX-License-Identifier: MIT */
/* fixture.h - the common checked fixture: one broker per test, fd-leak check */

#include <check.h>
#include <stdlib.h>
#include <unistd.h>
#include "broker.h"
#include "suite.h"

static TestBroker fixture_broker;
static int fixture_fds;

static inline void fixture_setup(void) {
        test_broker_spawn(&fixture_broker, NULL);
        ck_assert_int_eq(machipc_connect(NULL), 0);
        fixture_fds = test_count_fds(fixture_broker.pid);
        ck_assert_int_gt(fixture_fds, 0);
}

/* Every task a test started has gone: the broker holds no more descriptors
 * than it did with only the test's own connection. */
static inline void fixture_teardown(void) {
        uint64_t deadline = test_now_ms() + 5000;
        int n;
        while ((n = test_count_fds(fixture_broker.pid)) > fixture_fds && test_now_ms() < deadline)
                usleep(1000);
        ck_assert_int_le(n, fixture_fds);
        test_broker_terminate(&fixture_broker);
}

#define ADD_TEST(tc, fn) tcase_add_test(tc, fn)
