/* SPDX-License-Identifier: MIT */
/*
 * account.c - quotas: everything a client can make the broker hold is
 * counted against its task and its uid
 *
 * A message stays charged to its sender until it is received or destroyed,
 * even after the sender is gone, so accounts are reference counted and live
 * as long as anything charged to them.  A charge either fits both the task's
 * and the uid's limit or changes nothing.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "account.h"

static const char *const keys[ACCT_N] = { "names", "messages", "bytes", "fds", "ool_bytes",
                                          "kernel_messages", "kernel_bytes", "tasks", "unread_bytes" };

/* limits_defaults() - the documented defaults (doc/security.md). */
void limits_defaults(Limits *task, Limits *uid) {
        static const uint64_t t[ACCT_N] = { 65536, 4096, 64ull << 20, 1024, 4ull << 30,
                                            16384, 16ull << 20, 1, 8ull << 20 };
        static const uint64_t u[ACCT_N] = { 262144, 16384, 256ull << 20, 4096, 16ull << 30,
                                            65536, 64ull << 20, 256, 0 };
        memcpy(task->max, t, sizeof(t));
        memcpy(uid->max, u, sizeof(u));
}

/* limits_key() - "task.names" and so on, for messages. */
const char *limits_key(int scope_uid, int what) {
        static char buf[32];
        strcpy(buf, scope_uid ? "uid." : "task.");
        strcat(buf, keys[what]);
        return buf;
}

/**
 * limits_parse() - apply one "SCOPE.KEY=N" (task.names=1000, uid.bytes=1048576)
 * Return: 0 or -EINVAL.
 */
int limits_parse(Limits *task, Limits *uid, const char *spec) {
        const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
        if (!dot || !eq || eq < dot)
                return -EINVAL;
        Limits *l;
        if ((size_t)(dot - spec) == 4 && strncmp(spec, "task", 4) == 0)
                l = task;
        else if ((size_t)(dot - spec) == 3 && strncmp(spec, "uid", 3) == 0)
                l = uid;
        else
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(eq + 1, &end, 10);
        if (errno || *end || eq[1] == '\0' || v == 0)
                return -EINVAL;
        for (int i = 0; i < ACCT_N; i++) {
                if (strlen(keys[i]) == (size_t)(eq - dot - 1) && strncmp(dot + 1, keys[i], strlen(keys[i])) == 0) {
                        if ((l == task && i == ACCT_TASKS) || (l == uid && i == ACCT_UNREAD))
                                return -EINVAL;
                        l->max[i] = v;
                        return 0;
                }
        }
        return -EINVAL;
}

int account_new(Account **acctp, const Limits *limits, uid_t uid) {
        Account *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->refs = 1;
        a->uid = uid;
        a->limits = limits;
        list_init(&a->link);
        *acctp = a;
        return 0;
}

Account *account_ref(Account *a) {
        if (a)
                a->refs++;
        return a;
}

/* account_unref() - the last reference frees it (and unlinks it from its registry). */
Account *account_unref(Account *a) {
        if (a && --a->refs == 0) {
                if (list_linked(&a->link))
                        list_del(&a->link);
                free(a);
        }
        return NULL;
}

/**
 * account_uid_get() - the account of @uid (a new reference), made if needed
 * Return: it, or NULL when out of memory.
 */
Account *account_uid_get(ListLink *registry, const Limits *limits, uid_t uid) {
        for (ListLink *l = registry->next; l != registry; l = l->next) {
                Account *a = list_entry(l, Account, link);
                if (a->uid == uid)
                        return account_ref(a);
        }
        Account *a;
        if (account_new(&a, limits, uid) < 0)
                return NULL;
        list_add_tail(registry, &a->link);
        return a;
}

/**
 * account_charge() - count @amount of @what against both accounts (either may be NULL)
 * Return: true, or false (nothing counted) if it would exceed a limit.
 */
bool account_charge(Account *task, Account *uid, int what, uint64_t amount) {
        if ((task && task->used[what] + amount > task->limits->max[what]) ||
            (uid && uid->used[what] + amount > uid->limits->max[what]))
                return false;
        if (task)
                task->used[what] += amount;
        if (uid)
                uid->used[what] += amount;
        return true;
}

/*
 * account_charge_force() - count @amount even past the limits
 *
 * For what the broker cannot refuse once it is due (a notification, the
 * reply of a call already made).  The debt is bounded by whoever let it be
 * promised: every way to promise such a message checks account_full() first.
 */
void account_charge_force(Account *task, Account *uid, int what, uint64_t amount) {
        if (task)
                task->used[what] += amount;
        if (uid)
                uid->used[what] += amount;
}

/* account_full() - is either account at or past its limit of @what? */
bool account_full(const Account *task, const Account *uid, int what) {
        return (task && task->used[what] >= task->limits->max[what]) ||
               (uid && uid->used[what] >= uid->limits->max[what]);
}

void account_release(Account *task, Account *uid, int what, uint64_t amount) {
        if (task)
                task->used[what] -= amount;
        if (uid)
                uid->used[what] -= amount;
}
