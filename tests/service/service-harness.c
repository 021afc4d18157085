/* service-harness.c: a private system bus, the real polkitd and mptcp-glib-service in the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by tests/service/test-service.c and bench/bench-service.c; see service-harness.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gio/gunixfdlist.h>

#include "service-harness.h"

static char *tmpdir;
static GSubprocess *bus_proc, *polkit_proc;
GSubprocess *service_proc;
GDBusConnection *bus;
const char *self_exe;
char *bus_address;   /* the harness's; children get it as DBUS_SYSTEM_BUS_ADDRESS */

/* ---- helpers shared by both sides ---------------------------------------------------------- */

int
mptcp_connect (const char *host,
               guint16     port,
               gboolean    talk)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  char buf[4];
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inet_pton (AF_INET, host, &sin.sin_addr), ==, 1);
  if (connect (fd, (struct sockaddr *) &sin, sizeof sin) != 0)
    g_error ("connect to %s:%u: %s", host, port, g_strerror (errno));
  if (talk)
    {
      /* the connection is fully established once the server has seen data */
      g_assert_cmpint (write (fd, "ping", 4), ==, 4);
      g_assert_cmpint (read (fd, buf, 4), ==, 4);
    }
  return fd;
}

GVariant *
call (GDBusConnection *conn,
      const char      *path,
      const char      *iface,
      const char      *method,
      GVariant        *params,
      const char      *reply_type,
      GError         **error)
{
  return g_dbus_connection_call_sync (conn, MPTCP_SERVICE_BUS_NAME, path, iface, method, params,
                                      reply_type ? G_VARIANT_TYPE (reply_type) : NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 20000, NULL, error);
}

/* Register(fd); fd < 0: no fd list at all. Returns the object path or NULL. */
char *
register_fd (GDBusConnection *conn,
             int              fd,
             GError         **error)
{
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GVariant) reply = NULL;
  char *path = NULL;

  if (fd >= 0)
    g_assert_cmpint (g_unix_fd_list_append (list, fd, NULL), ==, 0);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (conn, MPTCP_SERVICE_BUS_NAME,
                                                         MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE,
                                                         "Register",
                                                         g_variant_new ("(h@a{sv})", 0,
                                                                        g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                                                         G_VARIANT_TYPE ("(ou)"),
                                                         G_DBUS_CALL_FLAGS_NONE, 20000,
                                                         fd >= 0 ? list : NULL, NULL, NULL, error);
  if (reply != NULL)
    g_variant_get (reply, "(ou)", &path, NULL);
  return path;
}

GDBusConnection *
new_bus (void)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn;

  conn = g_dbus_connection_new_for_address_sync (bus_address ? bus_address : g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                 G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (conn, FALSE);
  return conn;
}

gboolean
has_error_name (const GError *error,
                const char   *name)
{
  g_autofree char *remote = error ? g_dbus_error_get_remote_error (error) : NULL;

  return g_strcmp0 (remote, name) == 0;
}

/* ---- the harness (root) ------------------------------------------------------------------- */

void
child_become (gpointer user_data)
{
  uid_t uid = GPOINTER_TO_UINT (user_data);

  /* between fork and exec: plain system calls only. Leaving uid 0 for good drops every
   * capability (no PR_SET_KEEPCAPS). */
  if (setgroups (0, NULL) != 0 || setresgid (uid, uid, uid) != 0 || setresuid (uid, uid, uid) != 0)
    _exit (120);
}

GSubprocess *
spawn_app (uid_t        uid,
           const char  *mode,
           const char  *arg,
           GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_become, GUINT_TO_POINTER (uid), NULL);
  g_subprocess_launcher_set_cwd (launcher, "/");
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
  return g_subprocess_launcher_spawn (launcher, error, self_exe, "--client", mode, arg, NULL);
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (path, 0644), ==, 0);
}

static void
bind_dir (const char *from,
          const char *to)
{
  if (mount (from, to, "none", MS_BIND, NULL) != 0)
    g_error ("bind-mount %s on %s: %s", from, to, g_strerror (errno));
}

static gboolean
name_has_owner (const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  gboolean has = FALSE;

  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has);
  return has;
}

static void
wait_for_name (const char  *name,
               GSubprocess *proc)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!name_has_owner (name))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s did not appear on the test bus", name);
      g_usleep (10000);
    }
}

static guint service_max;
const char *harness_service_extra_arg;
const char *harness_service_table_poll_ms;
const char *harness_service_runtime_dir;

/* between fork and exec: the daemons die with the harness, even when a failed assertion
 * aborts it (polkitd clears this when it drops to its user, and exits with the bus) */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
start_service (void)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *max_text = g_strdup_printf ("%u", service_max);
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
  if (harness_service_table_poll_ms != NULL)
    g_subprocess_launcher_setenv (launcher, "MPTCP_GLIB_SERVICE_TABLE_POLL_MS",
                                  harness_service_table_poll_ms, TRUE);
  if (harness_service_runtime_dir != NULL)
    g_subprocess_launcher_setenv (launcher, "MPTCP_GLIB_SERVICE_RUNTIME_DIR",
                                  harness_service_runtime_dir, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  service_proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MPTCP_GLIB_SERVICE"),
                                              "--max-per-client", max_text,
                                              harness_service_extra_arg, NULL);
  g_assert_no_error (error);
  wait_for_name (MPTCP_SERVICE_BUS_NAME, service_proc);
}

/* SIGTERM: the service must exit 0 (it frees everything it holds). */
static gboolean
stop_service (void)
{
  gboolean clean;

  g_subprocess_send_signal (service_proc, SIGTERM);
  g_subprocess_wait (service_proc, NULL, NULL);
  clean = g_subprocess_get_if_exited (service_proc) &&
          g_subprocess_get_exit_status (service_proc) == 0;
  g_clear_object (&service_proc);
  return clean;
}

void
harness_restart_service (void)
{
  g_assert_true (stop_service ());
  while (name_has_owner (MPTCP_SERVICE_BUS_NAME))
    g_usleep (5000);
  start_service ();
}

void
harness_set_admin_for_nobody (gboolean allow)
{
  g_autofree char *flag = g_build_filename (tmpdir, "admin-for-nobody", NULL);

  if (allow)
    write_file (flag, "");
  else
    g_assert_cmpint (unlink (flag), ==, 0);
}

void
harness_stop_service (void)
{
  g_assert_true (stop_service ());
  while (name_has_owner (MPTCP_SERVICE_BUS_NAME))
    g_usleep (5000);
}

void
harness_start_service (void)
{
  start_service ();
}

void
harness_kill_service (void)
{
  g_subprocess_force_exit (service_proc);   /* SIGKILL, to this pid only */
  g_subprocess_wait (service_proc, NULL, NULL);
  g_clear_object (&service_proc);
  while (name_has_owner (MPTCP_SERVICE_BUS_NAME))
    g_usleep (5000);
  start_service ();
}

gboolean
harness_teardown (void)
{
  gboolean clean = TRUE;

  if (service_proc != NULL && !stop_service ())
    {
      g_printerr ("# the service did not exit cleanly (a crash, or a leak under ASan)\n");
      clean = FALSE;
    }
  if (polkit_proc != NULL)
    {
      g_subprocess_force_exit (polkit_proc);
      g_subprocess_wait (polkit_proc, NULL, NULL);
    }
  g_clear_object (&bus);
  if (bus_proc != NULL)
    {
      g_subprocess_force_exit (bus_proc);
      g_subprocess_wait (bus_proc, NULL, NULL);
    }
  if (tmpdir != NULL)
    {
      g_autofree char *argv0 = g_find_program_in_path ("rm");
      const char *argv[] = { argv0, "-rf", tmpdir, NULL };

      g_spawn_sync (NULL, (char **) argv, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
    }
  return clean;
}

void
harness_setup (guint max_per_client)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *actions = NULL, *rules = NULL, *conf = NULL;
  g_autofree char *address = NULL, *bus_conf = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  const char *service_exe = g_getenv ("MPTCP_GLIB_SERVICE");
  const char *srcdir = g_getenv ("MPTCP_GLIB_SERVICE_SRCDIR");

  g_assert_nonnull (service_exe);
  g_assert_nonnull (srcdir);
  /* our own mount namespace: the bind mounts vanish with this process */
  if (unshare (CLONE_NEWNS) != 0 || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0)
    g_error ("mount namespace: %s", g_strerror (errno));

  tmpdir = g_dir_make_tmp ("mptcp-service-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (tmpdir, 0755), ==, 0);
  actions = g_build_filename (tmpdir, "actions", NULL);
  rules = g_build_filename (tmpdir, "rules", NULL);
  g_assert_cmpint (mkdir (actions, 0755), ==, 0);
  g_assert_cmpint (mkdir (rules, 0755), ==, 0);
  {
    g_autofree char *src = g_build_filename (srcdir, "io.github.MptcpGlib.Service.policy", NULL);
    g_autofree char *dst = g_build_filename (actions, "io.github.MptcpGlib.Service.policy", NULL);
    g_autofree char *text = NULL;

    g_file_get_contents (src, &text, NULL, &error);
    g_assert_no_error (error);
    write_file (dst, text);
  }
  {
    g_autofree char *dst = g_build_filename (rules, "10-mptcp-glib-test.rules", NULL);

    g_autofree char *text = NULL;

    /* admin for nobody while the file admin-for-nobody exists (harness_set_admin_for_nobody) */
    text = g_strdup_printf (
                "polkit.addRule(function(action, subject) {\n"
                "  if (action.id == \"" MPTCP_SERVICE_ACTION_STEER_OWN "\" &&\n"
                "      (subject.user == \"root\" || subject.user == \"nobody\"))\n"
                "    return polkit.Result.YES;\n"
                "  if (action.id == \"" MPTCP_SERVICE_ACTION_ADMIN "\" && subject.user == \"root\")\n"
                "    return polkit.Result.YES;\n"
                "  if (action.id == \"" MPTCP_SERVICE_ACTION_ADMIN "\" && subject.user == \"nobody\") {\n"
                "    try {\n"
                "      polkit.spawn([\"/usr/bin/test\", \"-e\", \"%s/admin-for-nobody\"]);\n"
                "      return polkit.Result.YES;\n"
                "    } catch (e) {\n"
                "      return polkit.Result.NO;\n"
                "    }\n"
                "  }\n"
                "  return polkit.Result.NO;\n"
                "});\n", tmpdir);
    write_file (dst, text);
  }
  bind_dir (actions, "/usr/share/polkit-1/actions");
  bind_dir (rules, "/usr/share/polkit-1/rules.d");
  if (g_file_test ("/etc/polkit-1/rules.d", G_FILE_TEST_IS_DIR))
    bind_dir (rules, "/etc/polkit-1/rules.d");

  conf = g_build_filename (srcdir, "io.github.MptcpGlib.Service.conf", NULL);
  bus_conf = g_build_filename (tmpdir, "bus.conf", NULL);
  {
    g_autofree char *text = g_strdup_printf (
      "<busconfig>\n"
      "  <type>system</type>\n"
      "  <listen>unix:dir=%s</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <limit name=\"max_completed_connections\">8192</limit>\n"
      "  <limit name=\"max_incomplete_connections\">1024</limit>\n"
      "  <limit name=\"max_connections_per_user\">8192</limit>\n"
      "  <policy context=\"default\">\n"
      "    <allow user=\"*\"/>\n"
      "    <deny own=\"*\"/>\n"
      "    <deny send_type=\"method_call\"/>\n"
      "    <allow send_type=\"signal\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
      "    <allow receive_type=\"method_call\"/>\n"
      "    <allow receive_type=\"method_return\"/>\n"
      "    <allow receive_type=\"error\"/>\n"
      "    <allow receive_type=\"signal\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\"\n"
      "           send_interface=\"org.freedesktop.DBus\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\"\n"
      "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
      "  </policy>\n"
      "  <policy user=\"root\">\n"
      "    <allow send_destination=\"*\"/>\n"
      "  </policy>\n"
      "  <policy user=\"polkitd\">\n"
      "    <allow own=\"org.freedesktop.PolicyKit1\"/>\n"
      "  </policy>\n"
      "  <policy context=\"default\">\n"
      "    <allow send_destination=\"org.freedesktop.PolicyKit1\"/>\n"
      "  </policy>\n"
      "  <include>%s</include>\n"
      "</busconfig>\n", tmpdir, conf);
    write_file (bus_conf, text);
  }
  {
    g_autoptr(GSubprocessLauncher) bus_launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    g_subprocess_launcher_set_child_setup (bus_launcher, die_with_parent, NULL, NULL);
    bus_proc = g_subprocess_launcher_spawn (bus_launcher, &error, "dbus-daemon", "--config-file",
                                            bus_conf, "--nofork", "--nosyslog",
                                            "--print-address=1", NULL);
  }
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus_proc));
  address = g_data_input_stream_read_line (in, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);
  bus_address = g_strdup (address);
  bus = new_bus ();
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", bus_address, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  polkit_proc = g_subprocess_launcher_spawn (launcher, &error, "/usr/lib/polkit-1/polkitd",
                                             "--no-debug", NULL);
  g_assert_no_error (error);
  wait_for_name ("org.freedesktop.PolicyKit1", polkit_proc);

  service_max = max_per_client;
  start_service ();
  _mptcp_service_register_error_domain ();
}

guint
service_fd_count (void)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%s/fd",
                                          g_subprocess_get_identifier (service_proc));
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

guint64
service_rss_kib (void)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status",
                                           g_subprocess_get_identifier (service_proc));
  g_autofree char *text = NULL;
  const char *p;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  p = strstr (text, "VmRSS:");
  g_assert_nonnull (p);
  return g_ascii_strtoull (p + 6, NULL, 10);
}

guint
n_registrations (GDBusConnection *conn)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL, list = NULL;

  reply = call (conn, MPTCP_SERVICE_PATH, MPTCP_SERVICE_IFACE, "ListRegistrations", NULL,
                "(a(ou(sq)(sq)))", &error);
  g_assert_no_error (error);
  list = g_variant_get_child_value (reply, 0);
  return g_variant_n_children (list);
}

/* The service answers (it did not crash). */
void
assert_service_alive (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  g_assert_cmpint (kill (atoi (g_subprocess_get_identifier (service_proc)), 0), ==, 0);
  reply = call (bus, MPTCP_SERVICE_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, "()", &error);
  g_assert_no_error (error);
}

