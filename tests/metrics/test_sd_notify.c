/* test_sd_notify.c — sd_notify_send() against a unix datagram socket bound
 * on a temporary path and on an abstract name, its error answers, and the
 * watchdog interval from WATCHDOG_USEC/WATCHDOG_PID. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/sd_notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Bind a datagram socket to `name` ("/path" or "@abstract"). */
static int bind_dgram(const char *name)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n = strlen(name);
        memcpy(sa.sun_path, name, n);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
        if (name[0] == '@')
                sa.sun_path[0] = '\0';
        else
                len++;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
        return fd;
}

static void expect_datagram(int fd, const char *want)
{
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_int_equal(n, (ssize_t)strlen(want));
        buf[n] = '\0';
        assert_string_equal(buf, want);
}

static void test_unset_is_noop(void **state)
{
        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(sd_notify_send("READY=1"), 0);
        setenv("NOTIFY_SOCKET", "", 1);
        assert_int_equal(sd_notify_send("READY=1"), 0);
        unsetenv("NOTIFY_SOCKET");
}

static void test_path_and_abstract_sockets(void **state)
{
        char dir[] = "/tmp/takt-sdnotify-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/notify", dir);
        char abstract[64];
        snprintf(abstract, sizeof(abstract), "@takt-sdnotify-test-%ld", (long)getpid());

        const char *names[] = {path, abstract};
        for (size_t i = 0; i < 2; i++) {
                int fd = bind_dgram(names[i]);
                setenv("NOTIFY_SOCKET", names[i], 1);
                assert_int_equal(sd_notify_send("READY=1\nSTATUS=listening"), 1);
                expect_datagram(fd, "READY=1\nSTATUS=listening");
                assert_int_equal(sd_notify_send("STOPPING=1"), 1);
                expect_datagram(fd, "STOPPING=1");
                close(fd);
        }
        unlink(path);
        rmdir(dir);
        unsetenv("NOTIFY_SOCKET");
}

static void test_errors(void **state)
{
        static const struct {
                const char *socket;
                int want;
        } cases[] = {
            {"relative/path", -EINVAL},
            {"@", -EINVAL},
            {"/nonexistent-takt-dir/notify", -ENOENT},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                setenv("NOTIFY_SOCKET", cases[i].socket, 1);
                assert_int_equal(sd_notify_send("READY=1"), cases[i].want);
        }
        unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_interval(void **state)
{
        char me[32], other[32];
        snprintf(me, sizeof(me), "%ld", (long)getpid());
        snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);
        static struct {
                const char *usec, *pid;
                uint64_t want;
        } cases[] = {
            {NULL, NULL, 0},
            {"30000000", NULL, 30000000},
            {"30000000", "", 30000000},
            {"30000000", "ME", 30000000},
            {"30000000", "OTHER", 0},
            {"0", NULL, 0},
            {"-5", NULL, 0},
            {"12abc", NULL, 0},
            {"", NULL, 0},
            {"30000000", "junk", 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *pid = cases[i].pid;
                if (pid && strcmp(pid, "ME") == 0)
                        pid = me;
                else if (pid && strcmp(pid, "OTHER") == 0)
                        pid = other;
                if (cases[i].usec)
                        setenv("WATCHDOG_USEC", cases[i].usec, 1);
                else
                        unsetenv("WATCHDOG_USEC");
                if (pid)
                        setenv("WATCHDOG_PID", pid, 1);
                else
                        unsetenv("WATCHDOG_PID");
                if (sd_watchdog_interval_usec() != cases[i].want)
                        fail_msg("case %zu: usec=%s pid=%s", i, cases[i].usec ? cases[i].usec : "-",
                                 pid ? pid : "-");
        }
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_unset_is_noop),
            cmocka_unit_test(test_path_and_abstract_sockets),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_watchdog_interval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
