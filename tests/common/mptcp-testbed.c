/* mptcp-testbed.c: run any command inside a fresh two-path MPTCP testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   mptcp-testbed [--drop-net-admin] [--rate RATE] [--] COMMAND [ARGS...]
 *
 * Builds the topology of testbed.h, runs COMMAND in the client namespace with the
 * MPTCP_TESTBED_* variables set, waits for it, tears the testbed down and exits with
 * COMMAND's status (128 + signal if it was killed). Exits 77 (meson's "skipped") when the
 * testbed cannot be built, or 1 when MPTCP_GLIB_REQUIRE_KERNEL=1.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "testbed.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define EXIT_SKIP 77

static volatile sig_atomic_t child_pid;

static void
forward_signal (int sig)
{
  if (child_pid > 0)
    kill (child_pid, sig);
}

static G_GNUC_NORETURN void
usage (int status)
{
  FILE *out = status == 0 ? stdout : stderr;

  fprintf (out,
           "Usage: mptcp-testbed [--drop-net-admin] [--rate RATE] [--] COMMAND [ARGS...]\n"
           "\n"
           "Run COMMAND in the client namespace of a throw-away two-path MPTCP testbed:\n"
           "  path 1  %s, %s  <->  %s, %s\n"
           "  path 2  %s  <->  %s\n"
           "  server ports %d (MPTCP sink), %d (MPTCP echo), %d (TCP sink)\n"
           "\n"
           "  --drop-net-admin  drop CAP_NET_ADMIN (also from the bounding set) before exec\n"
           "  --rate RATE       limit both directions of both paths with tbf (e.g. 20mbit)\n"
           "\n"
           "COMMAND gets MPTCP_TESTBED_{SERVER1_V4,SERVER2_V4,SERVER1_V6,CLIENT1_V4,CLIENT2_V4,\n"
           "CLIENT1_V6,SILENT_V4,PORT_SINK,PORT_ECHO,PORT_TCP,SERVER_NETNS} in its environment\n"
           "(SILENT_V4: a host that never answers, routed into the server and dropped); use\n"
           "`nsenter --net=$MPTCP_TESTBED_SERVER_NETNS CMD` to act on the server side.\n"
           "Exit status: COMMAND's, 128+N if it died of signal N, 77 if the testbed cannot be\n"
           "built (1 with MPTCP_GLIB_REQUIRE_KERNEL=1).\n",
           TESTBED_CLIENT1_V4, TESTBED_CLIENT1_V6, TESTBED_SERVER1_V4, TESTBED_SERVER1_V6,
           TESTBED_CLIENT2_V4, TESTBED_SERVER2_V4,
           TESTBED_PORT_SINK, TESTBED_PORT_ECHO, TESTBED_PORT_TCP);
  exit (status);
}

static void
set_env_uint (const char *name, guint value)
{
  char buf[16];

  g_snprintf (buf, sizeof buf, "%u", value);
  g_setenv (name, buf, TRUE);
}

/* scripts call `ip`, `tc`, `ss`: a normal user's PATH often lacks the sbin directories */
static void
complete_path (void)
{
  const char *path = g_getenv ("PATH");
  g_autofree char *padded = NULL;
  g_autoptr(GString) extra = g_string_new (path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");

  padded = g_strdup_printf (":%s:", extra->str);
  if (strstr (padded, ":/usr/sbin:") == NULL)
    g_string_append (extra, ":/usr/sbin");
  if (strstr (padded, ":/sbin:") == NULL)
    g_string_append (extra, ":/sbin");
  g_setenv ("PATH", extra->str, TRUE);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  gboolean drop_net_admin = FALSE;
  const char *rate = NULL;
  g_autofree char *prog = NULL;
  struct sigaction sa;
  pid_t parent, pid;
  int i, status = 0, errsv;

  /* options end at the first non-option (the command's own options are its business) */
  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        {
          i++;
          break;
        }
      else if (strcmp (argv[i], "--drop-net-admin") == 0)
        drop_net_admin = TRUE;
      else if (strcmp (argv[i], "--rate") == 0 && i + 1 < argc)
        rate = argv[++i];
      else if (g_str_has_prefix (argv[i], "--rate="))
        rate = argv[i] + strlen ("--rate=");
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        usage (0);
      else if (argv[i][0] == '-')
        {
          fprintf (stderr, "mptcp-testbed: unknown option %s\n", argv[i]);
          usage (2);
        }
      else
        break;
    }
  if (i >= argc)
    usage (2);

  /* first thing: no thread may exist when the namespaces are made */
  if (!testbed_init (&error))
    {
      fprintf (stderr, "mptcp-testbed: cannot build the MPTCP testbed: %s\n", error->message);
      return g_strcmp0 (g_getenv (TESTBED_REQUIRE_ENV), "1") == 0 ? 1 : EXIT_SKIP;
    }
  if (rate != NULL && !testbed_set_rate (rate, &error))
    {
      fprintf (stderr, "mptcp-testbed: --rate %s: %s\n", rate, error->message);
      testbed_teardown ();
      return 2;
    }

  g_setenv ("MPTCP_TESTBED_SERVER1_V4", TESTBED_SERVER1_V4, TRUE);
  g_setenv ("MPTCP_TESTBED_SERVER2_V4", TESTBED_SERVER2_V4, TRUE);
  g_setenv ("MPTCP_TESTBED_SERVER1_V6", TESTBED_SERVER1_V6, TRUE);
  g_setenv ("MPTCP_TESTBED_CLIENT1_V4", TESTBED_CLIENT1_V4, TRUE);
  g_setenv ("MPTCP_TESTBED_CLIENT2_V4", TESTBED_CLIENT2_V4, TRUE);
  g_setenv ("MPTCP_TESTBED_SILENT_V4", TESTBED_SILENT_V4, TRUE);
  g_setenv ("MPTCP_TESTBED_CLIENT1_V6", TESTBED_CLIENT1_V6, TRUE);
  set_env_uint ("MPTCP_TESTBED_PORT_SINK", TESTBED_PORT_SINK);
  set_env_uint ("MPTCP_TESTBED_PORT_ECHO", TESTBED_PORT_ECHO);
  set_env_uint ("MPTCP_TESTBED_PORT_TCP", TESTBED_PORT_TCP);
  g_setenv ("MPTCP_TESTBED_SERVER_NETNS", testbed_server_netns_path (), TRUE);
  g_setenv ("MPTCP_TESTBED_USERNS", testbed_is_userns () ? "1" : "0", TRUE);
  complete_path ();

  /* resolve it here: 127 for "not found" as a shell says, whatever PATH entries are unreadable */
  prog = g_find_program_in_path (argv[i]);
  if (prog == NULL)
    {
      fprintf (stderr, "mptcp-testbed: %s: command not found\n", argv[i]);
      testbed_teardown ();
      return 127;
    }

  fflush (stdout);
  fflush (stderr);
  parent = getpid ();
  pid = fork ();
  if (pid < 0)
    {
      errsv = errno;
      fprintf (stderr, "mptcp-testbed: fork: %s\n", g_strerror (errsv));
      testbed_teardown ();
      return 1;
    }
  if (pid == 0)
    {
      /* the command must not outlive the testbed */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (1);
      if (drop_net_admin && !testbed_drop_net_admin (&error))
        {
          fprintf (stderr, "mptcp-testbed: --drop-net-admin: %s\n", error->message);
          _exit (1);
        }
      execv (prog, argv + i);
      errsv = errno;
      fprintf (stderr, "mptcp-testbed: cannot run %s: %s\n", argv[i], g_strerror (errsv));
      _exit (126);
    }

  child_pid = pid;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sigaction (SIGQUIT, &sa, NULL);

  while (waitpid (pid, &status, 0) < 0)
    {
      if (errno != EINTR)
        {
          errsv = errno;
          fprintf (stderr, "mptcp-testbed: waitpid: %s\n", g_strerror (errsv));
          testbed_teardown ();
          return 1;
        }
    }
  child_pid = 0;
  testbed_teardown ();

  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 1;
}
