#pragma once
/* SPDX-License-Identifier: MIT */
/* ctl.h - what machipcctl's commands share: the broker's records, names, processes */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <machipc/machipc.h>

#define FIELDS_MAX 32

/* One line of machipc_broker_info(): its record type and key/value pairs. */
typedef struct {
        char *type;
        int n;
        char *key[FIELDS_MAX];
        char *val[FIELDS_MAX];
} Record;

typedef struct {
        Record *r;
        size_t n;
        size_t cap;
        /* The "right" records, ordered by port id, so a port's holders are found by search. */
        const Record **by_port;
        size_t n_rights;
        char *text;
} Records;

/* A name the name server holds: its name, the broker's id of the port, who checked it in. */
typedef struct {
        char name[NETNAME_MAX];
        unsigned long long port_id;     /* 0: not found in the broker's state */
        int pid;                        /* the process that checked it in */
} Service;

typedef struct {
        Service *v;
        size_t n;
        bool available;                 /* a name server answered */
        unsigned long long bootstrap;   /* the name server's own port */
} Services;

typedef struct {
        bool json;
        bool dot;
        bool all;                       /* show machipcctl's own task too */
} CtlOptions;

const char *rec_get(const Record *r, const char *key);
unsigned long long rec_num(const Record *r, const char *key);
int records_load(Records *rs);
void records_free(Records *rs);
const Record *records_find(const Records *rs, const char *type, const char *key, unsigned long long value);
const Record *records_right(const Records *rs, unsigned long long task, unsigned long long name);

int services_load(Services *ss, const Records *rs);
const char *services_name_of(const Services *ss, unsigned long long port_id);
void services_free(Services *ss);

int ctl_load(Records *rs, Services *ss, bool need_names);
int ctl_number(const char *s, long long min, long long max, long long *out);
const char *proc_comm(int pid);
void json_string(FILE *f, const char *s);

int cmd_status(const char *what, const CtlOptions *o);
int cmd_names(const CtlOptions *o);
int cmd_proxies(const CtlOptions *o);
int cmd_call(int argc, char **argv, const CtlOptions *o);
int cmd_monitor(int argc, char **argv, const CtlOptions *o);
