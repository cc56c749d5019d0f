/* SPDX-License-Identifier: MIT */
/* test-sem.c - semaphores (counting, order, timeouts, ends) and shared regions */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixture.h"

static port_status_t sem_status(semaphore_t s) {
        port_status_t st;
        ck_assert_int_eq(port_status(task_self(), s, &st), KERN_SUCCESS);
        return st;
}

/* Wait until @n tasks wait on @s (a readiness check, not a sleep). */
static void wait_waiters(semaphore_t s, uint32_t n) {
        uint64_t deadline = test_now_ms() + 10000;
        while (sem_status(s).n_receivers != n)
                ck_assert_uint_lt(test_now_ms(), deadline);
}

START_TEST(test_counting) {
        semaphore_t s;
        ck_assert_int_eq(semaphore_create(task_self(), &s, -1), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(semaphore_create(task_self(), &s, 3), KERN_SUCCESS);
        ck_assert_uint_eq(sem_status(s).msgcount, 3);
        for (int i = 0; i < 3; i++)
                ck_assert_int_eq(semaphore_timedwait(s, 0), KERN_SUCCESS);
        ck_assert_int_eq(semaphore_timedwait(s, 0), KERN_OPERATION_TIMED_OUT);
        ck_assert_int_eq(semaphore_signal(s), KERN_SUCCESS);
        ck_assert_int_eq(semaphore_signal(s), KERN_SUCCESS);
        ck_assert_uint_eq(sem_status(s).msgcount, 2);
        ck_assert_int_eq(semaphore_wait(s), KERN_SUCCESS);
        ck_assert_int_eq(semaphore_wait(s), KERN_SUCCESS);
        ck_assert_uint_eq(sem_status(s).msgcount, 0);
        /* A timed wait waits its time. */
        uint64_t t0 = test_now_ms();
        ck_assert_int_eq(semaphore_timedwait(s, 150), KERN_OPERATION_TIMED_OUT);
        uint64_t dt = test_now_ms() - t0;
        ck_assert_uint_ge(dt, 140);
        ck_assert_uint_lt(dt, 5000);
        ck_assert_uint_eq(sem_status(s).n_receivers, 0);
        /* Not a semaphore. */
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        ck_assert_int_eq(semaphore_signal(task_self()), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(semaphore_destroy(task_self(), task_self()), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(semaphore_destroy(task_self(), s), KERN_SUCCESS);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), s, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_DEAD_NAME);
        ck_assert_int_eq(semaphore_signal(s), KERN_TERMINATED);
        ck_assert_int_eq(semaphore_wait(s), KERN_TERMINATED);
}
END_TEST

/* Child: get the semaphore, say who we are, wait, then report the wake-up. */
static int waiter(void *arg) {
        int idx = *(int *)arg;
        port_t boot = test_bootstrap_lookup(), mine, sem = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 1, idx, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        if (test_recv_int(mine, NULL, NULL, &sem, 0, 0) != 0 || sem == PORT_NULL)
                return 3;
        kern_return_t kr = semaphore_wait(sem);
        if (test_send_int(boot, 2, idx, 0, 0, 0, 0) != 0)
                return 4;
        return kr == KERN_SUCCESS ? 0 : kr == KERN_TERMINATED ? 7 : 5;
}

static pid_t start_waiter(port_t boot, semaphore_t s, int *idx) {
        pid_t pid = test_fork(waiter, idx);
        port_t child;
        int32_t v;
        ck_assert_int_eq(test_recv_int(boot, NULL, &v, &child, 0, 0), 0);
        ck_assert_int_eq(v, *idx);
        ck_assert_int_eq(test_send_int(child, 0, 0, s, MSG_TYPE_COPY_SEND, 0, 0), 0);
        return pid;
}

START_TEST(test_wake_order_across_tasks) {
        port_t boot = test_bootstrap_serve();
        semaphore_t s;
        ck_assert_int_eq(semaphore_create(task_self(), &s, 0), 0);
        int idx[4] = { 0, 1, 2, 3 };
        pid_t pids[4];
        for (int i = 0; i < 4; i++) {
                pids[i] = start_waiter(boot, s, &idx[i]);
                wait_waiters(s, (uint32_t)i + 1);
        }
        /* Woken first come, first served, one per signal. */
        for (int i = 0; i < 4; i++) {
                ck_assert_int_eq(semaphore_signal(s), 0);
                int32_t id, v;
                ck_assert_int_eq(test_recv_int(boot, &id, &v, NULL, RCV_TIMEOUT, 10000), 0);
                ck_assert_int_eq(id, 2);
                ck_assert_int_eq(v, i);
                ck_assert_int_eq(test_wait(pids[i]), 0);
        }
        ck_assert_uint_eq(sem_status(s).msgcount, 0);
}
END_TEST

START_TEST(test_dead_waiter_skipped_and_destroy_wakes) {
        port_t boot = test_bootstrap_serve();
        semaphore_t s;
        ck_assert_int_eq(semaphore_create(task_self(), &s, 0), 0);
        int i0 = 0, i1 = 1, i2 = 2;
        pid_t a = start_waiter(boot, s, &i0);
        wait_waiters(s, 1);
        pid_t b = start_waiter(boot, s, &i1);
        wait_waiters(s, 2);
        /* The first waiter dies: the signal must go to the second. */
        int fds_before = test_count_fds(fixture_broker.pid);
        kill(a, SIGKILL);
        ck_assert_int_eq(test_wait(a), 128 + SIGKILL);
        /* Until the broker has seen the death (it closes the task's socket),
         * a signal may still go to the dying waiter, which takes the count
         * with it; wait for the broker to see it. */
        uint64_t deadline = test_now_ms() + 10000;
        while (test_count_fds(fixture_broker.pid) >= fds_before)
                ck_assert_uint_lt(test_now_ms(), deadline);
        ck_assert_int_eq(semaphore_signal(s), 0);
        int32_t v;
        ck_assert_int_eq(test_recv_int(boot, NULL, &v, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(v, 1);
        ck_assert_int_eq(test_wait(b), 0);
        ck_assert_uint_eq(sem_status(s).msgcount, 0);
        /* Destroying it wakes a waiter with KERN_TERMINATED. */
        pid_t c = start_waiter(boot, s, &i2);
        wait_waiters(s, 1);
        ck_assert_int_eq(semaphore_destroy(task_self(), s), 0);
        ck_assert_int_eq(test_recv_int(boot, NULL, &v, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(test_wait(c), 7);
}
END_TEST

static int create_and_die(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup();
        semaphore_t s;
        if (semaphore_create(task_self(), &s, 0) != 0)
                return 1;
        if (test_send_int(boot, 1, 0, s, MSG_TYPE_COPY_SEND, 0, 0) != 0)
                return 2;
        pause();
        return 0;
}

typedef struct {
        semaphore_t s;
        kern_return_t kr;
} Wait;

static void *wait_thread(void *arg) {
        Wait *w = arg;
        w->kr = semaphore_wait(w->s);
        return NULL;
}

START_TEST(test_creator_death_wakes_waiters) {
        port_t boot = test_bootstrap_serve();
        pid_t pid = test_fork(create_and_die, NULL);
        Wait w = { 0 };
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &w.s, 0, 0), 0);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, wait_thread, &w), 0);
        wait_waiters(w.s, 1);
        kill(pid, SIGKILL);
        ck_assert_int_eq(test_wait(pid), 128 + SIGKILL);
        pthread_join(th, NULL);
        ck_assert_int_eq(w.kr, KERN_TERMINATED);
        port_type_t t;
        ck_assert_int_eq(port_type(task_self(), w.s, &t), 0);
        ck_assert_uint_eq(t, PORT_TYPE_DEAD_NAME);
}
END_TEST

static int map_and_write(void *arg) {
        (void)arg;
        port_t boot = test_bootstrap_lookup(), mine, obj = PORT_NULL;
        if (port_allocate(task_self(), &mine) != 0)
                return 1;
        if (test_send_int(boot, 1, 0, mine, MSG_TYPE_MAKE_SEND, 0, 0) != 0)
                return 2;
        if (test_recv_int(mine, NULL, NULL, &obj, 0, 0) != 0)
                return 3;
        vm_address_t a;
        vm_size_t size;
        if (machipc_shm_map(obj, &a, &size) != 0 || size != 3 * 4096 + 5)
                return 4;
        char *p = (char *)a;
        if (strcmp(p, "written by the creator") != 0)
                return 5;
        strcpy(p + 8192, "written by the child");
        if (test_send_int(boot, 2, 0, 0, 0, 0, 0) != 0)
                return 6;
        return vm_deallocate(task_self(), a, size) == 0 ? 0 : 7;
}

START_TEST(test_shared_region_same_pages) {
        port_t boot = test_bootstrap_serve(), obj, child;
        ck_assert_int_eq(machipc_shm_create(0, &obj), KERN_INVALID_ARGUMENT);
        ck_assert_int_eq(machipc_shm_create(3 * 4096 + 5, &obj), KERN_SUCCESS);
        vm_address_t a;
        vm_size_t size;
        ck_assert_int_eq(machipc_shm_map(obj, &a, &size), KERN_SUCCESS);
        ck_assert_uint_eq(size, 3 * 4096 + 5);
        ck_assert_uint_eq(((char *)a)[100], 0);         /* zero-filled */
        strcpy((char *)a, "written by the creator");
        pid_t pid = test_fork(map_and_write, NULL);
        ck_assert_int_eq(test_recv_int(boot, NULL, NULL, &child, 0, 0), 0);
        ck_assert_int_eq(test_send_int(child, 0, 0, obj, MSG_TYPE_COPY_SEND, 0, 0), 0);
        int32_t id;
        ck_assert_int_eq(test_recv_int(boot, &id, NULL, NULL, RCV_TIMEOUT, 10000), 0);
        ck_assert_int_eq(id, 2);
        ck_assert_str_eq((char *)a + 8192, "written by the child");
        ck_assert_int_eq(test_wait(pid), 0);
        /* A second mapping in the same task sees the same pages too. */
        vm_address_t b;
        ck_assert_int_eq(machipc_shm_map(obj, &b, &size), 0);
        ck_assert_uint_ne(a, b);
        ck_assert_str_eq((char *)b + 8192, "written by the child");
        ck_assert_int_eq(vm_deallocate(task_self(), a, size), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), b, size), 0);
        ck_assert_int_eq(machipc_shm_map(task_self(), &b, &size), KERN_INVALID_ARGUMENT);
        /* The last send right gone, the region goes: its name is dead. */
        ck_assert_int_eq(port_deallocate(task_self(), obj), 0);
        char *text = NULL;
        ck_assert_int_eq(machipc_broker_info(&text, NULL), 0);
        free(text);
}
END_TEST

START_TEST(test_shared_region_found_by_name) {
        const char *const args[] = { NULL };
        pid_t ns = test_spawn_ready(getenv("MACHIPC_TEST_NAMESERVER"), args);
        port_t obj, found;
        ck_assert_int_eq(machipc_shm_create(4096, &obj), 0);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "shared-key", PORT_NULL, obj), NETNAME_SUCCESS);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "shared-key", &found), NETNAME_SUCCESS);
        ck_assert_uint_eq(found, obj);
        vm_address_t a;
        vm_size_t size;
        ck_assert_int_eq(machipc_shm_map(found, &a, &size), 0);
        ck_assert_int_eq(vm_deallocate(task_self(), a, size), 0);
        ck_assert_int_eq(netname_check_out(PORT_NULL, "shared-key", PORT_NULL), NETNAME_SUCCESS);
        ck_assert_int_eq(test_stop(ns), 0);
        /* Our send right (two references: made, and looked up) is the last. */
        ck_assert_int_eq(port_mod_refs(task_self(), obj, PORT_RIGHT_SEND, -2), 0);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Semaphores and shared regions");
        TCase *tc = tcase_create("sem");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_counting);
        ADD_TEST(tc, test_wake_order_across_tasks);
        ADD_TEST(tc, test_dead_waiter_skipped_and_destroy_wakes);
        ADD_TEST(tc, test_creator_death_wakes_waiters);
        ADD_TEST(tc, test_shared_region_same_pages);
        ADD_TEST(tc, test_shared_region_found_by_name);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
