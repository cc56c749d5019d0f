/* SPDX-License-Identifier: MIT */
/*
 * names.c - machipcctl names: what the name server holds — each name, the
 * port it maps to (the broker's id), the task that receives on that port
 * and its process, and who checked the name in
 */

#include <string.h>
#include "ctl.h"

int cmd_names(const CtlOptions *o) {
        Records rs;
        Services ss;
        if (ctl_load(&rs, &ss, true) != 0)
                return 1;
        if (!o->json)
                printf("%-24s %-6s %-6s %-8s %-16s %s\n", "NAME", "PORT", "TASK", "PID", "COMMAND",
                       "CHECKED IN BY (PID)");
        else
                printf("[");
        for (size_t i = 0; i < ss.n; i++) {
                const Service *s = &ss.v[i];
                const Record *port = s->port_id ? records_find(&rs, "port", "id", s->port_id) : NULL;
                unsigned long long task = port ? rec_num(port, "task") : 0;
                const Record *t = task ? records_find(&rs, "task", "id", task) : NULL;
                int pid = t ? (int)rec_num(t, "pid") : 0;
                char comm[64];
                snprintf(comm, sizeof(comm), "%s", pid ? proc_comm(pid) : "-");
                if (o->json) {
                        printf("%s\n  {\"name\": ", i ? "," : "");
                        json_string(stdout, s->name);
                        printf(", \"port\": %llu, \"task\": %llu, \"pid\": %d, \"command\": ", s->port_id, task, pid);
                        json_string(stdout, comm);
                        printf(", \"checked_in_by\": %d}", s->pid);
                } else {
                        printf("%-24s %-6llu %-6llu %-8d %-16s %d\n", s->name, s->port_id, task, pid, comm, s->pid);
                }
        }
        if (o->json)
                printf("%s]\n", ss.n ? "\n" : "");
        services_free(&ss);
        records_free(&rs);
        return 0;
}
