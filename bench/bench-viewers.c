/* bench-viewers.c: what the viewers of tools/ cost
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run inside a testbed:
 *   ./_build/tests/mptcp-testbed ./_build/bench/bench-viewers top [N] [ROUNDS]
 *   ./_build/tests/mptcp-testbed ./_build/bench/bench-viewers inspector [N] [SECONDS]
 * (run directly, it builds its own testbed).
 *
 * Opens N idle MPTCP connections to the testbed's sink, each with a second subflow (the
 * in-kernel path manager and one subflow endpoint in the client namespace), then:
 *   top        runs `mptcp-top --json --bench ROUNDS` (default N = 10000, 15 rounds): in its
 *              own process, interleaved, the CPU time of a refresh of the connection list
 *              alone (the namespace dump, the baseline) and of a refresh with the frame drawn
 *              (JSON to /dev/null). Target: frame / dump <= 1.5.
 *   inspector  starts Xvfb and mptcp-inspector (GSK_RENDERER=cairo; default N = 100; the
 *              first connection selected, 1 Hz updates), lets it settle 5 s, then measures
 *              its CPU time (user + system, /proc/PID/stat) over SECONDS (default 20).
 *              Target: <= 1 % of a CPU.
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <mptcp-glib/mptcp-glib.h>
#include "testbed.h"
#include "read-common.h"

static char *
tool_path (const char *argv0,
           const char *relative)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (exe != NULL ? exe : argv0);

  /* _build/bench/bench-viewers -> _build/tools/... */
  return g_build_filename (dir, "..", "tools", relative, NULL);
}

static int *
open_connections (guint n)
{
  GSocketAddress *server = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_SINK);
  struct rlimit rl = { n * 3 + 256, n * 3 + 256 };
  int *fds = g_new (int, n);
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GError) error = NULL;
  guint n_subflows = 0;
  gint64 deadline;

  struct rlimit now;

  /* raise the soft limit as far as the hard one allows */
  getrlimit (RLIMIT_NOFILE, &now);
  if (rl.rlim_cur > now.rlim_max)
    rl.rlim_cur = rl.rlim_max = now.rlim_max;
  if (n + 64 > rl.rlim_cur)
    g_error ("%u connections need %u descriptors; the hard limit is %lu", n, n + 64,
             (unsigned long) now.rlim_max);
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    g_error ("setrlimit: %s", g_strerror (errno));
  read_use_kernel_pm_n_endpoints (1);
  for (guint i = 0; i < n; i++)
    {
      struct sockaddr_storage ss;

      g_socket_address_to_native (server, &ss, sizeof ss, NULL);
      fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
      if (fds[i] < 0 || connect (fds[i], (struct sockaddr *) &ss, sizeof (struct sockaddr_in)) < 0)
        g_error ("connection %u: %s", i, g_strerror (errno));
      if (send (fds[i], "x", 1, MSG_NOSIGNAL) != 1)
        g_error ("send %u: %s", i, g_strerror (errno));
    }
  g_object_unref (server);

  /* wait for the second subflows */
  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_connection_list_set_interval (list, 0);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (n_subflows < 2 * n && g_get_monotonic_time () < deadline)
    {
      g_usleep (200 * 1000);
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      n_subflows = 0;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
        {
          g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);

          n_subflows += g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e));
        }
    }
  g_print ("bench-viewers: %u connections, %u subflows listed\n",
           g_list_model_get_n_items (G_LIST_MODEL (list)), n_subflows);
  return fds;
}

static int
bench_top (const char *argv0,
           guint       n,
           guint       rounds)
{
  g_autofree char *top = tool_path (argv0, "mptcp-top");
  g_autofree char *rounds_arg = g_strdup_printf ("%u", rounds);
  const char *argv[] = { top, "--json", "--bench", rounds_arg, NULL };
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  double dump = 0, frame = 0;
  const char *figures;
  int status;
  int *fds = open_connections (n);

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                     &err, &status, &error))
    g_error ("%s: %s", top, error->message);
  g_printerr ("%s", err);
  figures = strstr (err, "refresh ");
  if (!g_spawn_check_wait_status (status, NULL) || figures == NULL
      || sscanf (figures, "refresh %lf, refresh + frame %lf", &dump, &frame) != 2 || dump <= 0)
    g_error ("mptcp-top --bench failed");
  g_print ("bench-viewers top: %u connections, median CPU per refresh: dump %.0f us, "
           "dump + JSON frame %.0f us; frame / dump = %.2f (target <= 1.5: %s)\n",
           n, dump, frame, frame / dump, frame / dump <= 1.5 ? "met" : "MISSED");
  for (guint i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
  return 0;
}

static double
process_cpu_s (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (after = strrchr (stat, ')')) == NULL)
    g_error ("cannot read %s", path);
  fields = g_strsplit (after + 2, " ", 0);
  /* after the command: state is field 3; utime 14 and stime 15 are at 11 and 12 here */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL))
         / sysconf (_SC_CLK_TCK);
}

static int
bench_inspector (const char *argv0,
                 guint       n,
                 guint       seconds)
{
  g_autofree char *inspector = tool_path (argv0, "inspector/mptcp-inspector");
  g_autofree char *runtime = g_dir_make_tmp ("bench-viewers-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  char display[32] = ":";
  int pipe_fds[2], *fds;
  GPid xvfb, app, baseline;
  double cpu0, cpu1, base0, base1;
  gint64 t0, t1;
  ssize_t got;

  fds = open_connections (n);
  if (pipe (pipe_fds) < 0)
    g_error ("pipe: %s", g_strerror (errno));
  {
    g_autofree char *fd_arg = g_strdup_printf ("%d", pipe_fds[1]);
    const char *argv[] = { "Xvfb", "-displayfd", fd_arg, "-nolisten", "tcp", "-screen", "0",
                           "1280x1024x24", NULL };

    if (!g_spawn_async (NULL, (char **) argv, NULL,
                        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL
                        | G_SPAWN_LEAVE_DESCRIPTORS_OPEN, NULL, NULL, &xvfb, &error))
      g_error ("Xvfb: %s", error->message);
  }
  close (pipe_fds[1]);
  got = read (pipe_fds[0], display + 1, sizeof display - 2);
  close (pipe_fds[0]);
  if (got <= 0)
    g_error ("Xvfb gave no display");
  display[got + 1] = '\0';
  g_strchomp (display);
  {
    const char *argv[] = { inspector, NULL };
    g_auto(GStrv) env = g_get_environ ();

    env = g_environ_setenv (env, "DISPLAY", display, TRUE);
    env = g_environ_setenv (env, "GDK_BACKEND", "x11", TRUE);
    env = g_environ_setenv (env, "GSK_RENDERER", "cairo", TRUE);
    env = g_environ_setenv (env, "XDG_RUNTIME_DIR", runtime, TRUE);
    env = g_environ_setenv (env, "NO_AT_BRIDGE", "1", TRUE);
    env = g_environ_setenv (env, "GTK_A11Y", "none", TRUE);
    if (!g_spawn_async (NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &app,
                        &error))
      g_error ("%s: %s", inspector, error->message);
  }
  /* the baseline beside it: mptcp-top refreshing the same list at 1 Hz, frames to /dev/null */
  {
    g_autofree char *top = tool_path (argv0, "mptcp-top");
    const char *argv[] = { top, "--json", NULL };

    if (!g_spawn_async (NULL, (char **) argv, NULL,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                        &baseline, &error))
      g_error ("%s: %s", top, error->message);
  }
  g_usleep (5 * G_USEC_PER_SEC);
  cpu0 = process_cpu_s (app);
  base0 = process_cpu_s (baseline);
  t0 = g_get_monotonic_time ();
  g_usleep (seconds * G_USEC_PER_SEC);
  cpu1 = process_cpu_s (app);
  base1 = process_cpu_s (baseline);
  t1 = g_get_monotonic_time ();
  g_print ("bench-viewers inspector: %u connections listed, one selected, 1 Hz: %.2f %% of a CPU "
           "over %.1f s (%.3f s CPU; target <= 1 %%: %s)\n", n,
           100 * (cpu1 - cpu0) / ((t1 - t0) / 1e6), (t1 - t0) / 1e6, cpu1 - cpu0,
           100 * (cpu1 - cpu0) / ((t1 - t0) / 1e6) <= 1 ? "met" : "MISSED");
  g_print ("  baseline, mptcp-top --json at 1 Hz on the same list: %.2f %% of a CPU; "
           "inspector / baseline = %.1f\n", 100 * (base1 - base0) / ((t1 - t0) / 1e6),
           (cpu1 - cpu0) / MAX (base1 - base0, 1e-3));
  kill (baseline, SIGTERM);
  waitpid (baseline, NULL, 0);
  g_spawn_close_pid (baseline);
  kill (app, SIGTERM);
  waitpid (app, NULL, 0);
  kill (xvfb, SIGTERM);
  waitpid (xvfb, NULL, 0);
  g_spawn_close_pid (app);
  g_spawn_close_pid (xvfb);
  rmdir (runtime);
  for (guint i = 0; i < n; i++)
    close (fds[i]);
  g_free (fds);
  return 0;
}

int
main (int argc, char **argv)
{
  gboolean inspector = argc > 1 && strcmp (argv[1], "inspector") == 0;
  guint n = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : inspector ? 100 : 10000;
  guint extra = argc > 3 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : inspector ? 20 : 15;

  if (argc < 2 || (!inspector && strcmp (argv[1], "top") != 0))
    {
      g_printerr ("usage: bench-viewers top|inspector [N] [ROUNDS|SECONDS]\n");
      return 2;
    }
  testbed_init_or_exit ();
  return inspector ? bench_inspector (argv[0], n, extra) : bench_top (argv[0], n, extra);
}
