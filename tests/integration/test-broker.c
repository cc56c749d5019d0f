/* SPDX-License-Identifier: MIT */
/* test-broker.c - machipcd itself: command line, socket, lifecycle, hostile input */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"
#include "raw.h"
#include "wire.h"

static int run(const char *args, char *out, size_t size) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s %s 2>&1", getenv("MACHIPC_TEST_BROKER"), args);
        return test_run_capture(cmd, out, size);
}

START_TEST(test_help_version_usage) {
        char out[4096];
        ck_assert_int_eq(run("--help", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "--socket"));
        ck_assert_ptr_nonnull(strstr(out, "--ready-fd"));
        ck_assert_int_eq(run("--version", out, sizeof(out)), 0);
        ck_assert_ptr_nonnull(strstr(out, "machipcd 0."));
        ck_assert_int_eq(run("--bogus", out, sizeof(out)), 2);
        ck_assert_int_eq(run("--max-tasks=0", out, sizeof(out)), 2);
        ck_assert_int_eq(run("extra", out, sizeof(out)), 2);
}
END_TEST

START_TEST(test_socket_permissions) {
        TestBroker b;
        test_broker_spawn(&b, NULL);
        struct stat st;
        ck_assert_int_eq(stat(b.path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        test_broker_terminate(&b);
        /* The default directory is made 0700. */
        char dir[64] = "/tmp/machipc-home-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        setenv("XDG_RUNTIME_DIR", dir, 1);
        unsetenv(MACHIPC_SOCKET_ENV);
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
                char arg[32];
                snprintf(arg, sizeof(arg), "--ready-fd=%d", fds[1]);
                close(fds[0]);
                execl(getenv("MACHIPC_TEST_BROKER"), "machipcd", "-q", arg, (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        char buf[16] = { 0 };
        ck_assert_int_eq(read(fds[0], buf, 8), 8);
        close(fds[0]);
        char sub[128], sock[160];
        snprintf(sub, sizeof(sub), "%s/machipc", dir);
        snprintf(sock, sizeof(sock), "%s/socket", sub);
        ck_assert_int_eq(stat(sub, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0700);
        ck_assert_int_eq(stat(sock, &st), 0);
        ck_assert_uint_eq(st.st_mode & 0777, 0600);
        /* The library names the same path, and $MACHIPC_SOCKET overrides only the path in effect. */
        char lib[160];
        ck_assert_int_eq(machipc_default_socket(lib, sizeof(lib)), 0);
        ck_assert_str_eq(lib, sock);
        ck_assert_int_eq(machipc_socket_path(lib, sizeof(lib)), 0);
        ck_assert_str_eq(lib, sock);
        setenv(MACHIPC_SOCKET_ENV, "/elsewhere/sock", 1);
        ck_assert_int_eq(machipc_socket_path(lib, sizeof(lib)), 0);
        ck_assert_str_eq(lib, "/elsewhere/sock");
        ck_assert_int_eq(machipc_default_socket(lib, sizeof(lib)), 0);
        ck_assert_str_eq(lib, sock);
        ck_assert_int_eq(machipc_socket_path(lib, 8), -ENAMETOOLONG);
        unsetenv(MACHIPC_SOCKET_ENV);
        ck_assert_int_eq(test_stop(pid), 0);
        ck_assert_int_ne(access(sock, F_OK), 0);
        rmdir(sub);
        rmdir(dir);
}
END_TEST

START_TEST(test_refuses_live_broker_replaces_stale) {
        TestBroker b;
        test_broker_spawn(&b, NULL);
        char out[4096], args[256];
        snprintf(args, sizeof(args), "-s %s", b.path);
        ck_assert_int_eq(run(args, out, sizeof(out)), 1);
        ck_assert_ptr_nonnull(strstr(out, "another machipcd is running"));
        /* The live broker is unharmed. */
        ck_assert_int_eq(machipc_connect(b.path), 0);
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        machipc_disconnect();
        /* SIGKILL leaves a stale socket; a new broker replaces it. */
        kill(b.pid, SIGKILL);
        ck_assert_int_eq(test_wait(b.pid), 128 + SIGKILL);
        ck_assert_int_eq(access(b.path, F_OK), 0);
        TestBroker b2 = b;
        b2.pid = test_spawn_ready(getenv("MACHIPC_TEST_BROKER"),
                                  (const char *const[]){ "-s", b.path, "-q", NULL });
        ck_assert_int_eq(machipc_connect(b.path), 0);
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        test_broker_terminate(&b2);
}
END_TEST

START_TEST(test_sigint_clean_exit) {
        TestBroker b;
        test_broker_spawn(&b, NULL);
        ck_assert_int_eq(machipc_connect(b.path), 0);
        machipc_disconnect();
        kill(b.pid, SIGINT);
        ck_assert_int_eq(test_wait(b.pid), 0);
        ck_assert_int_ne(access(b.path, F_OK), 0);
        rmdir(b.dir);
}
END_TEST

START_TEST(test_client_sees_broker_exit) {
        TestBroker b;
        test_broker_spawn(&b, NULL);
        ck_assert_int_eq(machipc_connect(b.path), 0);
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), 0);
        kill(b.pid, SIGTERM);
        ck_assert_int_eq(test_wait(b.pid), 0);
        ck_assert_int_eq(port_allocate(task_self(), &p), -ECONNRESET);
        ck_assert_int_eq(test_send_int(p, 1, 1, 0, 0, 0, 0), -ECONNRESET);
        machipc_disconnect();
        /* With no broker, connecting fails with a clear errno. */
        ck_assert_int_eq(port_allocate(task_self(), &p), -ENOENT);
        ck_assert_int_eq(machipc_connect(b.path), -ENOENT);
        rmdir(b.dir);
}
END_TEST

/*
 * Every call, whatever it is and whatever came before, reports an
 * unreachable broker the same way: the negative errno of the connection.
 */
static void all_calls_say(int err) {
        port_t p = PORT_NULL;
        port_status_t st;
        char *info = NULL;
        semaphore_t sem;
        vm_address_t a;
        ck_assert_uint_eq(task_self(), PORT_NULL);
        ck_assert_uint_eq(task_notify(), PORT_NULL);
        ck_assert_uint_eq(mach_reply_port(), PORT_NULL);
        ck_assert_int_eq(port_allocate(task_self(), &p), err);
        ck_assert_int_eq(port_set_allocate(task_self(), &p), err);
        ck_assert_int_eq(port_deallocate(task_self(), 0x401), err);
        ck_assert_int_eq(port_status(task_self(), 0x401, &st), err);
        ck_assert_int_eq(port_set_backlog(task_self(), 0x401, 1), err);
        ck_assert_int_eq(task_get_bootstrap_port(task_self(), &p), err);
        ck_assert_int_eq(machipc_set_bootstrap_port(0x401), err);
        ck_assert_int_eq(machipc_broker_info(&info, NULL), err);
        ck_assert_int_eq(semaphore_create(task_self(), &sem, 0), err);
        ck_assert_int_eq(semaphore_signal(0x401), err);
        ck_assert_int_eq(machipc_shm_create(4096, &p), err);
        ck_assert_int_eq(netname_look_up(PORT_NULL, NULL, "echo", &p), err);
        ck_assert_int_eq(netname_check_in(PORT_NULL, "echo", PORT_NULL, 0x401), err);
        ck_assert_uint_eq(p, PORT_NULL);        /* out-parameters untouched on failure */
        ck_assert_int_eq(test_send_int(0x401, 1, 1, 0, 0, 0, 0), err);
        ck_assert_int_eq(test_recv_int(0x401, NULL, NULL, NULL, RCV_TIMEOUT, 0), err);
        msg_header_t h = { .msg_size = sizeof(h), .msg_remote_port = 0x401 };
        ck_assert_int_eq(msg_rpc(&h, 0, sizeof(h), 0, 0), err);
        /* Local memory needs no broker. */
        ck_assert_int_eq(vm_allocate(task_self(), &a, 4096, 1), KERN_SUCCESS);
        ck_assert_int_eq(vm_deallocate(task_self(), a, 4096), KERN_SUCCESS);
}

START_TEST(test_unreachable_broker_one_rule) {
        /* Nothing at the path: -ENOENT from every call, each trying again. */
        char dir[] = "/tmp/machipc-test-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/socket", dir);
        setenv(MACHIPC_SOCKET_ENV, path, 1);
        machipc_disconnect();
        all_calls_say(-ENOENT);
        /* A socket nobody listens on (a broker that crashed): -ECONNREFUSED. */
        int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        all_calls_say(-ECONNREFUSED);
        unlink(path);
        rmdir(dir);

        /* A broker that goes away: -ECONNRESET, whichever call notices first. */
        for (int order = 0; order < 2; order++) {
                TestBroker b;
                test_broker_spawn(&b, NULL);
                ck_assert_int_eq(machipc_connect(b.path), 0);
                port_t p;
                ck_assert_int_eq(port_allocate(task_self(), &p), 0);
                kill(b.pid, SIGTERM);
                ck_assert_int_eq(test_wait(b.pid), 0);
                if (order == 0)
                        ck_assert_int_eq(test_recv_int(p, NULL, NULL, NULL, 0, 0), -ECONNRESET);
                else
                        ck_assert_int_eq(port_status(task_self(), p, &(port_status_t){ 0 }), -ECONNRESET);
                all_calls_say(-ECONNRESET);
                /* Until the task lets go; then it is a new task looking for a broker. */
                machipc_disconnect();
                all_calls_say(-ENOENT);
                rmdir(b.dir);
        }
}
END_TEST

/* A raw connection to the broker, for speaking the protocol badly. */
static int raw_connect_here(void) {
        return raw_connect(fixture_broker.path);
}

static int raw_task_here(void) {
        return raw_task(fixture_broker.path, 0, NULL);
}

/* The broker still serves a well-behaved task. */
static void assert_alive(void) {
        port_t p;
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        ck_assert_int_eq(port_deallocate(task_self(), p), KERN_SUCCESS);
}

START_TEST(test_bad_handshakes) {
        uint8_t f[256];
        int fd;

        fd = raw_connect_here();     /* garbage */
        memset(f, 0xee, 64);
        raw_send(fd, f, 64);
        raw_assert_dropped(fd);

        fd = raw_connect_here();     /* wrong magic */
        raw_hello_frame(f, WIRE_VERSION_MAJOR, 0, 0x12345678);
        raw_send(fd, f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE);
        raw_assert_dropped(fd);

        fd = raw_connect_here();     /* a version we do not speak: told so, then dropped */
        raw_hello_frame(f, WIRE_VERSION_MAJOR + 1, 0, WIRE_MAGIC);
        raw_send(fd, f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE);
        uint8_t in[128];
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_HELLO_REPLY_SIZE);
        WireHelloReply rep;
        ck_assert_int_eq(wire_hello_reply_decode(in + WIRE_HDR_SIZE, WIRE_HELLO_REPLY_SIZE, &rep), 0);
        ck_assert_uint_eq(rep.status, KERN_FAILURE);
        ck_assert_uint_eq(rep.major, WIRE_VERSION_MAJOR);
        raw_assert_dropped(fd);

        /* Flags and reserved bytes of the hello are for later versions: non-zero is refused. */
        for (int field = 0; field < 2; field++) {
                fd = raw_connect_here();
                raw_hello_frame(f, WIRE_VERSION_MAJOR, 0, WIRE_MAGIC);
                wire_put_le32(f + WIRE_HDR_SIZE + (field ? 12 : 8), 1);
                raw_send(fd, f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE);
                raw_assert_dropped(fd);
        }

        fd = raw_connect_here();     /* a request before the handshake */
        WireHeader h = { .size = WIRE_HDR_SIZE, .op = WIRE_OP_REPLY_PORT, .serial = 5 };
        wire_header_encode(f, &h);
        raw_send(fd, f, WIRE_HDR_SIZE);
        raw_assert_dropped(fd);

        fd = raw_connect_here();     /* truncated header */
        raw_send(fd, f, 7);
        raw_assert_dropped(fd);

        fd = raw_connect_here();     /* connect and close at once */
        close(fd);
        assert_alive();
}
END_TEST

START_TEST(test_bad_frames_after_handshake) {
        uint8_t f[256];
        int fd;
        WireHeader h;

        fd = raw_task_here();        /* length that lies */
        h = (WireHeader){ .size = 200, .op = WIRE_OP_REPLY_PORT, .serial = 2 };
        wire_header_encode(f, &h);
        raw_send(fd, f, WIRE_HDR_SIZE);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* unknown op */
        h = (WireHeader){ .size = WIRE_HDR_SIZE, .op = 0x77, .serial = 2 };
        wire_header_encode(f, &h);
        raw_send(fd, f, WIRE_HDR_SIZE);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a second handshake */
        raw_hello_frame(f, WIRE_VERSION_MAJOR, 0, WIRE_MAGIC);
        raw_send(fd, f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a message request with its reserved field set */
        h = (WireHeader){ .size = WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE, .op = WIRE_OP_MSG, .serial = 2 };
        wire_header_encode(f, &h);
        WireMsgReq rq = { .option = WIRE_MSG_RCV, .rcv_name = 0x401, .rcv_size = 64, .extra = 7 };
        wire_msg_req_encode(f + WIRE_HDR_SIZE, &rq);
        raw_send(fd, f, h.size);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a message request with unknown options */
        h = (WireHeader){ .size = WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE, .op = WIRE_OP_MSG, .serial = 2 };
        wire_header_encode(f, &h);
        WireMsgReq q = { .option = WIRE_MSG_RCV | 0x01000000 };
        wire_msg_req_encode(f + WIRE_HDR_SIZE, &q);
        raw_send(fd, f, h.size);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a send request without a message */
        q = (WireMsgReq){ .option = WIRE_MSG_SEND };
        wire_msg_req_encode(f + WIRE_HDR_SIZE, &q);
        raw_send(fd, f, h.size);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* reserved header bits */
        h = (WireHeader){ .size = WIRE_HDR_SIZE, .op = WIRE_OP_REPLY_PORT, .serial = 2, .flags = 1 };
        wire_header_encode(f, &h);
        raw_send(fd, f, WIRE_HDR_SIZE);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a frame larger than any allowed */
        uint8_t *big = calloc(1, WIRE_FRAME_MAX + 64);
        h = (WireHeader){ .size = WIRE_FRAME_MAX + 64, .op = WIRE_OP_MSG, .serial = 2 };
        wire_header_encode(big, &h);
        raw_send(fd, big, WIRE_FRAME_MAX + 64);
        free(big);
        raw_assert_dropped(fd);

        fd = raw_task_here();        /* a descriptor nobody declared */
        int devnull = open("/dev/null", O_RDONLY);
        h = (WireHeader){ .size = WIRE_HDR_SIZE, .op = WIRE_OP_REPLY_PORT, .serial = 2 };
        wire_header_encode(f, &h);
        struct iovec iov = { f, WIRE_HDR_SIZE };
        union {
                struct cmsghdr c;
                char b[CMSG_SPACE(sizeof(int))];
        } ctl;
        memset(&ctl, 0, sizeof(ctl));
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                             .msg_controllen = sizeof(ctl.b) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &devnull, sizeof(int));
        ck_assert_int_eq(sendmsg(fd, &mh, MSG_NOSIGNAL), WIRE_HDR_SIZE);
        close(devnull);
        raw_assert_dropped(fd);

        assert_alive();
}
END_TEST

START_TEST(test_malformed_message_gets_code) {
        /* A malformed message is answered with a code; the task stays. */
        int fd = raw_task_here();
        uint8_t f[256] = { 0 };
        msg_header_t mh = { .msg_size = 33, .msg_remote_port = 0x100 };
        WireHeader h = { .size = WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE + 36, .op = WIRE_OP_MSG, .serial = 9 };
        wire_header_encode(f, &h);
        WireMsgReq q = { .option = WIRE_MSG_SEND };
        wire_msg_req_encode(f + WIRE_HDR_SIZE, &q);
        memcpy(f + WIRE_HDR_SIZE + WIRE_MSG_REQ_SIZE, &mh, sizeof(mh));
        raw_send(fd, f, h.size);
        uint8_t in[256];
        ssize_t n = recv(fd, in, sizeof(in), 0);
        ck_assert_int_eq(n, WIRE_HDR_SIZE + WIRE_MSG_REPLY_SIZE);
        WireHeader rh;
        WireMsgReply rep;
        ck_assert_int_eq(wire_header_decode(in, (size_t)n, &rh), 0);
        ck_assert_uint_eq(rh.serial, 9);
        ck_assert_int_eq(wire_msg_reply_decode(in + WIRE_HDR_SIZE, (size_t)n - WIRE_HDR_SIZE, &rep), 0);
        ck_assert_uint_eq(rep.status, SEND_MSG_TOO_SMALL);
        /* The same connection still works. */
        h = (WireHeader){ .size = WIRE_HDR_SIZE, .op = WIRE_OP_REPLY_PORT, .serial = 10 };
        wire_header_encode(f, &h);
        raw_send(fd, f, WIRE_HDR_SIZE);
        ck_assert_int_eq(recv(fd, in, sizeof(in), 0), WIRE_HDR_SIZE + WIRE_REPLY_PORT_REPLY_SIZE);
        ck_assert_uint_eq(wire_get_le32(in + WIRE_HDR_SIZE), 0);
        close(fd);
        assert_alive();
}
END_TEST

START_TEST(test_task_that_stops_reading) {
        /* A task that floods requests without reading replies is dropped
         * instead of growing the broker; others are served throughout.  Our
         * own broker, with a small limit, so that this is quick under valgrind. */
        fixture_teardown();
        test_broker_spawn(&fixture_broker, (const char *const[]){ "--limit=task.unread_bytes=65536", NULL });
        ck_assert_int_eq(machipc_connect(NULL), 0);
        fixture_fds = test_count_fds(fixture_broker.pid);
        int fd = raw_task_here();
        int one = 1 << 12;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
        uint8_t f[WIRE_HDR_SIZE];
        fcntl(fd, F_SETFL, O_NONBLOCK);
        uint64_t deadline = test_now_ms() + 20000;
        int sent = 0;
        for (uint32_t serial = 2;; serial++) {
                WireHeader h = { .size = WIRE_HDR_SIZE, .op = WIRE_OP_REPLY_PORT, .serial = serial };
                wire_header_encode(f, &h);
                ssize_t r = send(fd, f, sizeof(f), MSG_NOSIGNAL);
                if (r < 0 && (errno == EPIPE || errno == ECONNRESET))
                        break;  /* dropped */
                if (r > 0)
                        sent++;
                if (r < 0 && errno == EAGAIN)
                        assert_alive();  /* the broker serves others meanwhile */
                ck_assert_msg(test_now_ms() < deadline, "flooding task was never dropped (%d sent)", sent);
        }
        close(fd);
        assert_alive();
}
END_TEST

START_TEST(test_task_limit) {
        TestBroker b;
        test_broker_spawn(&b, (const char *const[]){ "--max-tasks=2", NULL });
        int fds[3];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b.path);
        for (int i = 0; i < 3; i++) {
                fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                ck_assert_int_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
                uint8_t f[64], in[128];
                raw_hello_frame(f, WIRE_VERSION_MAJOR, 0, WIRE_MAGIC);
                send(fds[i], f, WIRE_HDR_SIZE + WIRE_HELLO_SIZE, MSG_NOSIGNAL);
                ssize_t n = recv(fds[i], in, sizeof(in), 0);
                if (i < 2)
                        ck_assert_int_eq(n, WIRE_HDR_SIZE + WIRE_HELLO_REPLY_SIZE);
                else
                        ck_assert_int_le(n, 0);         /* refused */
        }
        for (int i = 0; i < 3; i++)
                close(fds[i]);
        test_broker_terminate(&b);
}
END_TEST

START_TEST(test_name_quota) {
        TestBroker b;
        test_broker_spawn(&b, (const char *const[]){ "--max-names=16", NULL });
        ck_assert_int_eq(machipc_connect(b.path), 0);
        port_t p, first = PORT_NULL;
        int n = 0;
        kern_return_t kr;
        while ((kr = port_allocate(task_self(), &p)) == KERN_SUCCESS) {
                if (!first)
                        first = p;
                n++;
                ck_assert_int_lt(n, 16);
        }
        ck_assert_int_eq(kr, KERN_NO_SPACE);
        ck_assert_int_eq(port_set_allocate(task_self(), &p), KERN_NO_SPACE);
        /* Freeing a name makes room again. */
        ck_assert_int_eq(port_deallocate(task_self(), first), KERN_SUCCESS);
        ck_assert_int_eq(port_allocate(task_self(), &p), KERN_SUCCESS);
        test_broker_terminate(&b);
}
END_TEST

int main(void) {
        Suite *s = suite_create("Broker");
        TCase *plain = tcase_create("lifecycle");
        tcase_set_timeout(plain, 60);
        ADD_TEST(plain, test_help_version_usage);
        ADD_TEST(plain, test_socket_permissions);
        ADD_TEST(plain, test_refuses_live_broker_replaces_stale);
        ADD_TEST(plain, test_sigint_clean_exit);
        ADD_TEST(plain, test_client_sees_broker_exit);
        ADD_TEST(plain, test_unreachable_broker_one_rule);
        ADD_TEST(plain, test_task_limit);
        ADD_TEST(plain, test_name_quota);
        suite_add_tcase(s, plain);
        TCase *tc = tcase_create("hostile");
        tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
        tcase_set_timeout(tc, 60);
        ADD_TEST(tc, test_bad_handshakes);
        ADD_TEST(tc, test_bad_frames_after_handshake);
        ADD_TEST(tc, test_malformed_message_gets_code);
        ADD_TEST(tc, test_task_that_stops_reading);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
