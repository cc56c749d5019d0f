/* SPDX-License-Identifier: MIT */
/*
 * records.c - the broker's state (machipc_broker_info(), one record per
 * line) parsed once, the name server's names mapped to the broker's port
 * ids, and process names: what every machipcctl command looks things up in
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "netname.h"

const char *rec_get(const Record *r, const char *key) {
        for (int i = 0; i < r->n; i++)
                if (strcmp(r->key[i], key) == 0)
                        return r->val[i];
        return "";
}

unsigned long long rec_num(const Record *r, const char *key) {
        return strtoull(rec_get(r, key), NULL, 0);
}

static int cmp_port(const void *a, const void *b) {
        unsigned long long x = rec_num(*(const Record *const *)a, "port"), y = rec_num(*(const Record *const *)b, "port");
        return x < y ? -1 : x > y;
}

/* Index the rights by port: n log n once, instead of a scan of every record per port. */
static int index_rights(Records *rs) {
        rs->by_port = malloc((rs->n ? rs->n : 1) * sizeof(*rs->by_port));
        if (!rs->by_port)
                return -ENOMEM;
        for (size_t i = 0; i < rs->n; i++)
                if (strcmp(rs->r[i].type, "right") == 0)
                        rs->by_port[rs->n_rights++] = &rs->r[i];
        qsort(rs->by_port, rs->n_rights, sizeof(*rs->by_port), cmp_port);
        return 0;
}

static int parse(char *text, Records *out) {
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                Record rec = { 0 };
                char *s2 = NULL;
                rec.type = strtok_r(line, " ", &s2);
                if (!rec.type)
                        continue;
                char *k;
                while ((k = strtok_r(NULL, " ", &s2)) && rec.n < FIELDS_MAX) {
                        char *v = strtok_r(NULL, " ", &s2);
                        if (!v)
                                break;
                        rec.key[rec.n] = k;
                        rec.val[rec.n] = v;
                        rec.n++;
                }
                if (out->n == out->cap) {
                        size_t cap = out->cap ? out->cap * 2 : 256;
                        Record *nr = realloc(out->r, cap * sizeof(*nr));
                        if (!nr)
                                return -ENOMEM;
                        out->r = nr;
                        out->cap = cap;
                }
                out->r[out->n++] = rec;
        }
        return index_rights(out);
}

/* records_load() - the broker's state now; 0, or a code for machipc_strerror(). */
int records_load(Records *rs) {
        memset(rs, 0, sizeof(*rs));
        int r = machipc_broker_info(&rs->text, NULL);
        if (r != 0)
                return r;
        return parse(rs->text, rs);
}

void records_free(Records *rs) {
        free(rs->by_port);
        free(rs->r);
        free(rs->text);
        memset(rs, 0, sizeof(*rs));
}

/* The first record of @type whose @key is @value, or NULL. */
const Record *records_find(const Records *rs, const char *type, const char *key, unsigned long long value) {
        for (size_t i = 0; i < rs->n; i++)
                if (strcmp(rs->r[i].type, type) == 0 && rec_num(&rs->r[i], key) == value)
                        return &rs->r[i];
        return NULL;
}

/* The right task @task holds under @name, or NULL. */
const Record *records_right(const Records *rs, unsigned long long task, unsigned long long name) {
        for (size_t i = 0; i < rs->n_rights; i++) {
                const Record *r = rs->by_port[i];
                if (rec_num(r, "task") == task && rec_num(r, "name") == name)
                        return r;
        }
        return NULL;
}

/*
 * services_load() - the name server's names, each with the broker's id of its
 * port: the name server lists its own names for the rights (netname list),
 * and its task's right records say which ports those are.  Its task is the
 * receiver of the bootstrap port, found through our own right to it.
 */
int services_load(Services *ss, const Records *rs) {
        memset(ss, 0, sizeof(*ss));
        port_t boot = PORT_NULL;
        if (task_get_bootstrap_port(task_self(), &boot) != KERN_SUCCESS || boot == PORT_NULL)
                return 0;
        const Record *mine = records_right(rs, machipc_task_id(), boot);
        const Record *bp = mine ? records_find(rs, "port", "id", rec_num(mine, "port")) : NULL;
        unsigned long long ns_task = bp ? rec_num(bp, "task") : 0;
        ss->bootstrap = bp ? rec_num(bp, "id") : 0;
        static char page[32768 + 1];
        int start = 0;
        do {
                mach_msg_type_number_t len = sizeof(page) - 1;
                int next = 0;
                if (netname_rpc_list(boot, start, page, &len, &next) != KERN_SUCCESS)
                        break;
                ss->available = true;
                page[len] = '\0';
                char *save = NULL;
                for (char *line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char name[NETNAME_MAX];
                        unsigned ns_name;
                        int pid;
                        if (sscanf(line, "%127s %u %d", name, &ns_name, &pid) != 3)
                                continue;
                        Service *v = realloc(ss->v, (ss->n + 1) * sizeof(*v));
                        if (!v)
                                return -ENOMEM;
                        ss->v = v;
                        Service *s = &ss->v[ss->n++];
                        snprintf(s->name, sizeof(s->name), "%s", name);
                        const Record *r = ns_task ? records_right(rs, ns_task, ns_name) : NULL;
                        s->port_id = r ? rec_num(r, "port") : 0;
                        s->pid = pid;
                }
                start = next;
        } while (start > 0);
        port_deallocate(task_self(), boot);
        return 0;
}

/* The names the name server maps to @port_id, comma-separated ("" if none). */
const char *services_name_of(const Services *ss, unsigned long long port_id) {
        static char buf[256];
        size_t len = 0;
        buf[0] = '\0';
        if (port_id && port_id == ss->bootstrap)
                return "(name server)";
        for (size_t i = 0; i < ss->n && port_id; i++) {
                if (ss->v[i].port_id != port_id)
                        continue;
                int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "", ss->v[i].name);
                if (n < 0 || (size_t)n >= sizeof(buf) - len)
                        break;
                len += (size_t)n;
        }
        return buf;
}

void services_free(Services *ss) {
        free(ss->v);
        memset(ss, 0, sizeof(*ss));
}

/* The command name of process @pid (/proc/PID/comm), "?" if it is gone or hidden. */
const char *proc_comm(int pid) {
        static char buf[64];
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/comm", pid);
        FILE *f = pid > 0 ? fopen(path, "r") : NULL;
        if (!f || !fgets(buf, sizeof(buf), f))
                snprintf(buf, sizeof(buf), "?");
        if (f)
                fclose(f);
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

/* @s as a JSON string. */
void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(f, "\\%c", c);
                else if (c < 0x20)
                        fprintf(f, "\\u%04x", c);
                else
                        fputc(c, f);
        }
        fputc('"', f);
}

/*
 * ctl_load() - the broker's state and the name server's names, or say on
 * stderr why not: 0, or 1 (the exit status).  @need_names: no name server
 * is an error (for names); else the services are just empty.
 */
int ctl_load(Records *rs, Services *ss, bool need_names) {
        int r = records_load(rs);
        if (r != 0) {
                fprintf(stderr, "machipcctl: %s\n", machipc_strerror(r));
                return 1;
        }
        r = services_load(ss, rs);
        if (need_names && (r != 0 || !ss->available)) {
                fprintf(stderr, "machipcctl: %s\n",
                        r ? machipc_strerror(r) : "no name server is registered with the broker");
                services_free(ss);
                records_free(rs);
                return 1;
        }
        return 0;
}

/* ctl_number() - @s as a decimal (or 0x, 0) integer in @min..@max; -1 if it is not one. */
int ctl_number(const char *s, long long min, long long max, long long *out) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 0);
        if (errno || !*s || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}
