/* SPDX-License-Identifier: MIT */
/*
 * proxies.c - machipcctl proxies: this host's machipc-netmsgd, its peers
 * (the other hosts, their certificate names) and its proxy ports (the
 * broker's id of each, the host and port id it leads to, its credit)
 */

#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "netmsg.h"

int cmd_proxies(const CtlOptions *o) {
        Records rs;
        Services ss;
        if (ctl_load(&rs, &ss, false) != 0)
                return 1;
        port_t nmd = PORT_NULL;
        kern_return_t kr = netname_look_up(PORT_NULL, NULL, "machipc-netmsgd", &nmd);
        if (kr != NETNAME_SUCCESS) {
                fprintf(stderr, "machipcctl: no machipc-netmsgd on this host (%s)\n", machipc_strerror(kr));
                services_free(&ss);
                records_free(&rs);
                return 1;
        }
        /* netmsgd's task: the receiver of its port, found through our right to it. */
        const Record *mine = records_right(&rs, machipc_task_id(), nmd);
        const Record *np = mine ? records_find(&rs, "port", "id", rec_num(mine, "port")) : NULL;
        unsigned long long nm_task = np ? rec_num(np, "task") : 0;
        static char page[32768 + 1];
        int start = 0, rows = 0;
        if (o->json)
                printf("{\"peers\": [");
        else
                printf("%-20s %-20s %-6s %s\n", "PEER HOST", "CERTIFICATE", "UP", "EXPORTED TO IT");
        char proxies[1 << 16] = "";
        size_t plen = 0;
        do {
                mach_msg_type_number_t len = sizeof(page) - 1;
                int next = 0;
                if ((kr = netmsg_rpc_list(nmd, start, page, &len, &next)) != KERN_SUCCESS)
                        break;
                page[len] = '\0';
                char *save = NULL;
                for (char *line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char host[256], ident[256], kind[16];
                        unsigned name, up, exports;
                        unsigned long long id;
                        int credit, paused;
                        if (sscanf(line, "peer %255s %255s %u %u", host, ident, &up, &exports) == 4) {
                                if (o->json) {
                                        printf("%s{\"host\": ", rows++ ? ", " : "");
                                        json_string(stdout, host);
                                        printf(", \"certificate\": ");
                                        json_string(stdout, ident);
                                        printf(", \"up\": %s, \"exports\": %u}", up ? "true" : "false", exports);
                                } else {
                                        printf("%-20s %-20s %-6s %u\n", host, ident, up ? "yes" : "no", exports);
                                }
                        } else if (sscanf(line, "proxy %u %255s %llu %15s %d %d", &name, host, &id, kind, &credit,
                                          &paused) == 6 && plen < sizeof(proxies) - 400) {
                                const Record *r = nm_task ? records_right(&rs, nm_task, name) : NULL;
                                unsigned long long port = r ? rec_num(r, "port") : 0;
                                plen += (size_t)snprintf(proxies + plen, sizeof(proxies) - plen,
                                                         o->json ? "%s{\"port\": %llu, \"host\": \"%s\", \"id\": %llu, "
                                                                   "\"kind\": \"%s\", \"credit\": %d, \"paused\": %s}"
                                                                 : "%s%-6llu %-20s %-10llu %-10s %-7d %s\n",
                                                         o->json ? (plen ? ", " : "") : "", port, host, id, kind,
                                                         credit, o->json ? (paused ? "true" : "false")
                                                                         : (paused ? "waiting" : "-"));
                        }
                }
                start = next;
        } while (start > 0);
        if (o->json)
                printf("], \"proxies\": [%s]}\n", proxies);
        else
                printf("\n%-6s %-20s %-10s %-10s %-7s %s\n%s(PORT: the proxy here; HOST and ID: the port it stands "
                       "for; CREDIT: messages it may still send before the other host says they arrived)\n",
                       "PORT", "LEADS TO HOST", "ID THERE", "KIND", "CREDIT", "STATE", proxies);
        port_deallocate(task_self(), nmd);
        services_free(&ss);
        records_free(&rs);
        if (kr != KERN_SUCCESS) {
                fprintf(stderr, "machipcctl: machipc-netmsgd: %s\n", machipc_strerror(kr));
                return 1;
        }
        return 0;
}
