#pragma once
/* SPDX-License-Identifier: MIT */
/* account.h - what a task and a uid hold in the broker, against their limits */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/list.h"

enum {
        ACCT_NAMES,             /* names in name spaces */
        ACCT_MESSAGES,          /* messages sent and not yet received or destroyed */
        ACCT_BYTES,             /* their inline bytes (message and attachment) */
        ACCT_FDS,               /* descriptors they carry */
        ACCT_OOL,               /* bytes of out-of-line regions they carry */
        ACCT_KMSGS,             /* messages the broker made for the task (replies, notifications)
                                 * until received or destroyed, and the ones it promised: send-once
                                 * rights to its ports, notification requests */
        ACCT_KBYTES,            /* bytes of the broker's messages queued for it */
        ACCT_TASKS,             /* connected tasks, before and after the handshake (per uid) */
        ACCT_UNREAD,            /* replies a task leaves unread, bytes (per task; not charged) */
        ACCT_N,
};

/* The limits of one scope (a task, or all tasks of a uid). */
typedef struct {
        uint64_t max[ACCT_N];
} Limits;

typedef struct Account {
        uint32_t refs;
        uid_t uid;
        ListLink link;          /* in the uid registry */
        const Limits *limits;
        uint64_t used[ACCT_N];
} Account;

void limits_defaults(Limits *task, Limits *uid);
int limits_parse(Limits *task, Limits *uid, const char *spec);
const char *limits_key(int scope_uid, int what);

int account_new(Account **acctp, const Limits *limits, uid_t uid);
Account *account_ref(Account *a);
Account *account_unref(Account *a);
Account *account_uid_get(ListLink *registry, const Limits *limits, uid_t uid);
bool account_charge(Account *task, Account *uid, int what, uint64_t amount);
void account_charge_force(Account *task, Account *uid, int what, uint64_t amount);
bool account_full(const Account *task, const Account *uid, int what);
void account_release(Account *task, Account *uid, int what, uint64_t amount);
