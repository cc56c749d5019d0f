/* SPDX-License-Identifier: MIT */
/* dbus.c - machipc-bench section 2b: the same request/reply through dbus-daemon */

#include "bench.h"

#ifdef HAVE_DBUS
#include <dbus/dbus.h>

static int dbus_server(const char *addr) {
        DBusError err;
        dbus_error_init(&err);
        DBusConnection *c = dbus_connection_open_private(addr, &err);
        if (!c || !dbus_bus_register(c, &err))
                return 1;
        if (dbus_bus_request_name(c, "org.machipc.Bench", DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                return 2;
        for (;;) {
                dbus_connection_read_write(c, -1);
                DBusMessage *m;
                while ((m = dbus_connection_pop_message(c))) {
                        if (dbus_message_is_method_call(m, "org.machipc.Bench", "Echo")) {
                                DBusMessage *r = dbus_message_new_method_return(m);
                                const char *p;
                                int n;
                                DBusMessageIter it, ot, arr;
                                dbus_message_iter_init(m, &it);
                                dbus_message_iter_recurse(&it, &arr);
                                dbus_message_iter_get_fixed_array(&arr, &p, &n);
                                dbus_message_iter_init_append(r, &ot);
                                DBusMessageIter oa;
                                dbus_message_iter_open_container(&ot, DBUS_TYPE_ARRAY, "y", &oa);
                                dbus_message_iter_append_fixed_array(&oa, DBUS_TYPE_BYTE, &p, n);
                                dbus_message_iter_close_container(&ot, &oa);
                                dbus_connection_send(c, r, NULL);
                                dbus_message_unref(r);
                        } else if (dbus_message_is_method_call(m, "org.machipc.Bench", "Quit")) {
                                dbus_connection_flush(c);
                                _exit(0);
                        }
                        dbus_message_unref(m);
                }
        }
}

void bench_dbus(void) {
        if (access("/usr/bin/dbus-daemon", X_OK) != 0) {
                if (!opt.json)
                        fprintf(stderr, "  dbus-daemon is not installed: no D-Bus comparison\n");
                return;
        }
        progress("dbus-daemon");
        int fds[2];
        if (pipe(fds) < 0)
                return;
        char conf[256];
        snprintf(conf, sizeof(conf), "%s/dbus.conf", opt.dir);
        FILE *f = fopen(conf, "w");
        fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig><type>session</type><listen>unix:dir=%s</listen>"
                   "<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>"
                   "<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n", opt.dir);
        fclose(f);
        pid_t daemon = fork();
        if (daemon == 0) {
                char fd[16];
                snprintf(fd, sizeof(fd), "%d", fds[1]);
                close(fds[0]);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                execl("/usr/bin/dbus-daemon", "dbus-daemon", "--config-file", conf, "--nofork",
                      "--print-address", fd, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        char addr[512] = { 0 };
        ssize_t n = read(fds[0], addr, sizeof(addr) - 1);
        close(fds[0]);
        if (n <= 0) {
                kill(daemon, SIGTERM);
                reap(daemon);
                return;
        }
        addr[strcspn(addr, "\n")] = 0;
        pid_t server = fork();
        if (server == 0)
                _exit(dbus_server(addr));
        DBusError err;
        dbus_error_init(&err);
        DBusConnection *c = dbus_connection_open_private(addr, &err);
        if (!c || !dbus_bus_register(c, &err))
                die("D-Bus: %s", err.message ? err.message : "cannot connect");
        /* Wait for the server's name. */
        for (int i = 0; i < 500 && !dbus_bus_name_has_owner(c, "org.machipc.Bench", &err); i++)
                usleep(10000);
        size_t sizes[] = { 64, 4096 };
        static char payload[4096];
        for (int k = 0; k < 2; k++) {
                int iters = opt.iters;
                double *s = malloc(sizeof(double) * (size_t)iters);
                const char *p = payload;
                for (int i = -iters / 10; i < iters; i++) {
                        DBusMessage *m = dbus_message_new_method_call("org.machipc.Bench", "/", "org.machipc.Bench",
                                                                      "Echo");
                        dbus_message_append_args(m, DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &p, (int)sizes[k] - 40,
                                                 DBUS_TYPE_INVALID);
                        double t0 = now_s();
                        DBusMessage *r = dbus_connection_send_with_reply_and_block(c, m, 10000, &err);
                        double dt = now_s() - t0;
                        if (!r)
                                die("D-Bus call: %s", err.message);
                        dbus_message_unref(r);
                        dbus_message_unref(m);
                        if (i >= 0)
                                s[i] = dt;
                }
                summarize(result(k ? "dbus_4KiB" : "dbus_64B"), s, iters);
                free(s);
        }
        DBusMessage *q = dbus_message_new_method_call("org.machipc.Bench", "/", "org.machipc.Bench", "Quit");
        dbus_connection_send(c, q, NULL);
        dbus_connection_flush(c);
        dbus_message_unref(q);
        reap(server);
        dbus_connection_close(c);
        dbus_connection_unref(c);
        kill(daemon, SIGTERM);
        reap(daemon);
        unlink(conf);
}
#endif
