/* test-connection-list.c: MptcpConnectionList against the real kernel, in the testbed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The list sees the client namespace of the testbed (this process). The oracle is `ss -tinMH`
 * (iproute2 reads the same sock_diag dumps with its own code): every connection and subflow
 * the list holds must be what ss prints, and the other way round.
 *
 * Per kernel: on 6.18 an unprivileged dump carries the subflows' MPTCP details, so the
 * uid 65534 child expects the same subflows as root. On 6.1 and 6.12 it does not; ss as
 * uid 65534 then prints no "tcp-ulp-mptcp" details, and the child expects the connections only,
 * MptcpConnectionList:subflows-visible FALSE and MPTCP_ERROR_PERMISSION_DENIED from
 * mptcp_connection_list_check_subflows(). Which of the two is decided by ss, not by the list.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include "testbed.h"
#include "read-common.h"
#include "request-common.h"
#include "mptcp-kernel-private.h"
#include "mptcp-connection-list-private.h"
#include "mptcp-netlink-private.h"
#include "mptcp-sockdiag-private.h"

#define NOBODY 65534

/* ---- helpers ------------------------------------------------------------------------------- */

typedef struct
{
  guint position, removed, added;
} Change;

static void
record_change_cb (GListModel *model, guint position, guint removed, guint added,
                  gpointer user_data)
{
  GArray *changes = user_data;
  Change c = { position, removed, added };

  g_array_append_val (changes, c);
}

static int
cmp_strp (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static char *
entry_line (MptcpConnectionEntry *entry)
{
  g_autofree char *l = read_address_string (mptcp_connection_entry_get_local_address (entry));
  g_autofree char *r = read_address_string (mptcp_connection_entry_get_remote_address (entry));

  return g_strdup_printf ("mptcp %s %s token:%x", l, r, mptcp_connection_entry_get_token (entry));
}

static char *
subflow_line (MptcpConnectionEntry *entry, MptcpSubflowEntry *sf)
{
  g_autofree char *l = read_address_string (mptcp_subflow_entry_get_local_address (sf));
  g_autofree char *r = read_address_string (mptcp_subflow_entry_get_remote_address (sf));

  return g_strdup_printf ("tcp %s %s token:%04x(id:%u)/%04x(id:%u)", l, r,
                          mptcp_subflow_entry_get_remote_token (sf),
                          mptcp_subflow_entry_get_remote_id (sf),
                          mptcp_connection_entry_get_token (entry),
                          mptcp_subflow_entry_get_local_id (sf));
}

/* The list's view as sorted lines: "mptcp L R token:T" per connection and, if subflows,
 * "tcp L R token:R(id:r)/L(id:l)" per subflow (ss's own format). */
static char *
list_view (MptcpConnectionList *list, gboolean subflows)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  GListModel *model = G_LIST_MODEL (list);
  g_autofree char **v = NULL;
  char *out;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpConnectionEntry) entry = g_list_model_get_item (model, i);
      GListModel *sfs = mptcp_connection_entry_get_subflows (entry);

      g_ptr_array_add (lines, entry_line (entry));
      if (!subflows)
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (sfs); k++)
        {
          g_autoptr(MptcpSubflowEntry) sf = g_list_model_get_item (sfs, k);

          g_ptr_array_add (lines, subflow_line (entry, sf));
        }
    }
  g_ptr_array_sort (lines, cmp_strp);
  g_ptr_array_add (lines, NULL);
  v = (char **) g_ptr_array_free (lines, FALSE);
  out = g_strjoinv ("\n", v);
  g_strfreev (g_steal_pointer (&v));
  return out;
}

static const char *
word_after (const char *text, const char *key, char *buf, gsize size)
{
  const char *p = strstr (text, key);
  gsize n = 0;

  if (p == NULL)
    return NULL;
  p += strlen (key);
  while (p[n] != '\0' && !g_ascii_isspace (p[n]) && n + 1 < size)
    n++;
  memcpy (buf, p, n);
  buf[n] = '\0';
  return buf;
}

/* ss's view, the same lines. ESTAB-or-other connections, listeners are not printed by
 * `ss -tinMH` without -a. *ulp_seen tells whether any subflow had tcp-ulp-mptcp details. */
static char *
ss_view (gboolean subflows, gboolean *ulp_seen)
{
  const char *argv[] = { "ss", "-tinMH", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *view = g_ptr_array_new_with_free_func (g_free);
  g_autofree char **v = NULL;
  char *result;

  g_assert_true (testbed_run_in_client (argv, &out, &error));
  g_assert_no_error (error);
  *ulp_seen = FALSE;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = NULL;
      g_autoptr(GString) details = g_string_new ("");
      char buf[128];
      guint j;

      if (lines[i][0] == '\0' || g_ascii_isspace (lines[i][0]))
        continue;
      f = g_strsplit_set (lines[i], " \t", -1);
      {
        /* squeeze the empty fields */
        guint w = 0;
        for (guint r = 0; f[r] != NULL; r++)
          if (f[r][0] != '\0')
            f[w++] = f[r];
          else
            g_free (f[r]);
        f[w] = NULL;
        if (w < 6)
          continue;
      }
      for (j = i + 1; lines[j] != NULL && g_ascii_isspace (lines[j][0]); j++)
        g_string_append (details, lines[j]);
      if (g_str_equal (f[0], "mptcp"))
        {
          if (word_after (details->str, " token:", buf, sizeof buf) != NULL)
            g_ptr_array_add (view, g_strdup_printf ("mptcp %s %s token:%s", f[4], f[5], buf));
        }
      else if (g_str_equal (f[0], "tcp") && strstr (details->str, "tcp-ulp-mptcp") != NULL)
        {
          if (word_after (details->str, "tcp-ulp-mptcp flags:", buf, sizeof buf) != NULL &&
              word_after (details->str, " token:", buf, sizeof buf) != NULL)
            {
              *ulp_seen = TRUE;
              if (subflows)
                g_ptr_array_add (view, g_strdup_printf ("tcp %s %s token:%s", f[4], f[5], buf));
            }
        }
    }
  g_ptr_array_sort (view, cmp_strp);
  g_ptr_array_add (view, NULL);
  v = (char **) g_ptr_array_free (view, FALSE);
  result = g_strjoinv ("\n", v);
  g_strfreev (g_steal_pointer (&v));
  return result;
}

static int
connect_raw (const char *ip, guint16 port)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int family = strchr (ip, ':') != NULL ? AF_INET6 : AF_INET;
  int fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  g_assert_cmpint (fd, >=, 0);
  memset (&ss, 0, sizeof ss);
  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (port);
      g_assert_cmpint (inet_pton (AF_INET, ip, &sin->sin_addr), ==, 1);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (port);
      g_assert_cmpint (inet_pton (AF_INET6, ip, &sin6->sin6_addr), ==, 1);
      len = sizeof *sin6;
    }
  g_assert_cmpint (connect (fd, (struct sockaddr *) &ss, len), ==, 0);
  g_assert_cmpint (send (fd, "hello", 5, MSG_NOSIGNAL), ==, 5);
  return fd;
}

/* A child that makes n connections to the sink (half over IPv6 when v6), as uid if not 0,
 * tells the parent over a pipe and holds them until the parent closes its end. */
static GPid
spawn_holder (guint n, gboolean v6, uid_t uid, int *out_hold_fd)
{
  int ready[2], hold[2];
  GPid pid;
  char c;

  g_assert_cmpint (pipe2 (ready, O_CLOEXEC), ==, 0);
  g_assert_cmpint (pipe2 (hold, O_CLOEXEC), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* only its own two pipe ends (not another holder's) */
      for (int fd = 3; fd < 1024; fd++)
        if (fd != ready[1] && fd != hold[0])
          close (fd);
      if (uid != 0 && (setgroups (0, NULL) != 0 || setresgid (uid, uid, uid) != 0 ||
                       setresuid (uid, uid, uid) != 0))
        _exit (2);
      for (guint i = 0; i < n; i++)
        connect_raw ((v6 && i % 2 == 1) ? TESTBED_SERVER1_V6 : TESTBED_SERVER1_V4,
                     TESTBED_PORT_SINK);
      if (write (ready[1], "r", 1) != 1)
        _exit (3);
      while (read (hold[0], &c, 1) > 0)
        ;
      _exit (0);
    }
  close (ready[1]);
  close (hold[0]);
  g_assert_cmpint (read (ready[0], &c, 1), ==, 1);
  close (ready[0]);
  *out_hold_fd = hold[1];
  return pid;
}

static void
release_holder (GPid pid, int hold_fd)
{
  int status;

  close (hold_fd);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* Refreshes until the list equals ss's view (a connection may still be completing its
 * handshake on one of them between the two dumps), for at most 5 s. */
static void
assert_list_equals_ss (MptcpConnectionList *list, gboolean subflows)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *mine = NULL;
      g_autofree char *theirs = NULL;
      gboolean ulp_seen;

      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_assert_no_error (error);
      mine = list_view (list, subflows);
      theirs = ss_view (subflows, &ulp_seen);
      if (g_str_equal (mine, theirs) || g_get_monotonic_time () > end)
        {
          g_assert_cmpstr (mine, ==, theirs);
          return;
        }
      g_usleep (50 * 1000);
    }
}

static guint
count_uid (MptcpConnectionList *list, guint uid)
{
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (mptcp_connection_entry_get_uid (e) == uid &&
          g_inet_socket_address_get_port (mptcp_connection_entry_get_remote_address (e)) ==
          TESTBED_PORT_SINK)
        n++;
    }
  return n;
}

/* ---- tests --------------------------------------------------------------------------------- */

/* The uid 65534 view, in a forked child (returns, so that everything is freed before the
 * child exits: valgrind checks the child too). */
static void
list_as_nobody (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnectionList) mine = NULL;
  g_autofree char *view = NULL;
  g_autofree char *theirs = NULL;
  gboolean ulp_seen = FALSE;

  if (setgroups (0, NULL) != 0 || setresgid (NOBODY, NOBODY, NOBODY) != 0 ||
      setresuid (NOBODY, NOBODY, NOBODY) != 0)
    _exit (2);
  mine = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  theirs = ss_view (TRUE, &ulp_seen);
  if (ulp_seen)
    {
      /* 6.18: the subflows too */
      g_assert_true (mptcp_connection_list_get_subflows_visible (mine));
      view = list_view (mine, TRUE);
      g_assert_cmpstr (view, ==, theirs);
    }
  else
    {
      /* 6.1, 6.12: the connections, and a clear answer about the subflows */
      g_autofree char *conns = ss_view (FALSE, &ulp_seen);

      g_test_message ("the kernel hides subflow details from uid 65534");
      g_assert_false (mptcp_connection_list_get_subflows_visible (mine));
      g_assert_false (mptcp_connection_list_check_subflows (mine, &error));
      g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
      g_clear_error (&error);
      view = list_view (mine, TRUE);
      g_assert_cmpstr (view, ==, conns);
    }
  g_assert_cmpuint (count_uid (mine, 0), ==, 4);
  g_assert_cmpuint (count_uid (mine, NOBODY), ==, 2);
}

/* Connections of two other processes (root and uid 65534) are listed as ss lists them, with
 * their owners; then a uid 65534 process without CAP_NET_ADMIN lists them too. */
static void
test_other_processes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  int hold_root, hold_nobody, status;
  GPid root_pid, nobody_pid, lister;
  gboolean pid_found = FALSE;

  root_pid = spawn_holder (4, TRUE, 0, &hold_root);
  nobody_pid = spawn_holder (2, FALSE, NOBODY, &hold_nobody);

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_CONNECTION_LIST (list));
  assert_list_equals_ss (list, TRUE);
  g_assert_cmpuint (count_uid (list, 0), ==, 4);
  g_assert_cmpuint (count_uid (list, NOBODY), ==, 2);
  g_assert_true (mptcp_connection_list_get_subflows_visible (list));
  g_assert_true (mptcp_connection_list_check_subflows (list, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);
      g_autoptr(MptcpConnectionInfo) info = mptcp_connection_entry_get_info (e);
      GListModel *sfs = mptcp_connection_entry_get_subflows (e);
      g_autoptr(MptcpSubflowEntry) first = NULL;
      g_autoptr(MptcpSubflowStats) stats = NULL;

      g_assert_cmpuint (mptcp_connection_entry_get_state (e), ==, MPTCP_TCP_STATE_ESTABLISHED);
      g_assert_cmpuint (mptcp_connection_info_get_token (info), ==,
                        mptcp_connection_entry_get_token (e));
      g_assert_cmpuint (mptcp_connection_entry_get_inode (e), >, 0);
      g_assert_true (mptcp_connection_list_find_token (list, mptcp_connection_entry_get_token (e)) == e);
      g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
      first = g_list_model_get_item (sfs, 0);
      g_assert_false (mptcp_subflow_entry_get_join (first));
      g_assert_false (mptcp_subflow_entry_get_backup (first));
      g_assert_false (mptcp_subflow_entry_get_peer_backup (first));
      stats = mptcp_subflow_entry_get_stats (first);
      g_assert_cmpuint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
      g_assert_cmpuint (mptcp_subflow_stats_get_bytes_acked (stats), >=, 5);
      /* the fields read in place are the snapshot's (the same dump) */
      g_assert_cmpuint (mptcp_subflow_entry_get_stat (first, MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED), ==,
                        mptcp_subflow_stats_get_bytes_acked (stats));
      g_assert_cmpuint (mptcp_subflow_entry_get_stat (first, MPTCP_SUBFLOW_STATS_FIELD_RTT), ==,
                        mptcp_subflow_stats_get_rtt (stats));
      g_assert_cmpuint (mptcp_subflow_entry_get_stat (first, MPTCP_SUBFLOW_STATS_FIELD_BYTES_SENT), ==,
                        mptcp_subflow_stats_get_bytes_sent (stats));
      if (mptcp_connection_entry_get_uid (e) == 0 && mptcp_connection_entry_find_pid (e) == root_pid)
        pid_found = TRUE;
    }
  g_assert_true (pid_found);

  /* the same as uid 65534 without CAP_NET_ADMIN (a fresh list in a child) */
  lister = fork ();
  g_assert_cmpint (lister, >=, 0);
  if (lister == 0)
    {
      list_as_nobody ();
      _exit (0);
    }
  g_assert_cmpint (waitpid (lister, &status, 0), ==, lister);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  release_holder (root_pid, hold_root);
  release_holder (nobody_pid, hold_nobody);
}

static void
on_notify_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* A second subflow appears and disappears with exact items-changed; the backup flags of both
 * directions: this host's MP_PRIO (MptcpSubflow:backup set) and the peer's (the server's
 * endpoint turned backup). */
static void
test_subflows (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf2 = NULL;
  g_autoptr(MptcpSubflowEntry) entry2 = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  const char *add_ep[] = { "ip", "mptcp", "endpoint", "add", TESTBED_SERVER2_V4, "dev",
                           TESTBED_SERVER2_IFNAME, "id", "7", NULL };
  const char *backup_ep[] = { "ip", "mptcp", "endpoint", "change", "id", "7", "backup", NULL };
  const char *del_ep[] = { "ip", "mptcp", "endpoint", "delete", "id", "7", NULL };
  MptcpConnectionEntry *entry;
  GListModel *sfs;
  guint backup_notes = 0, peer_notes = 0, state_notes = 0;
  gint64 end;

  g_assert_true (testbed_run_in_server (add_ep, NULL, &error));
  g_assert_no_error (error);

  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  read_send_bytes (socket, 1000);
  g_assert_true (read_wait_for_established (connection, 5000));

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_connection_list_set_interval (list, 0);
  entry = mptcp_connection_list_find_token (list, mptcp_connection_get_token (connection));
  g_assert_nonnull (entry);
  sfs = mptcp_connection_entry_get_subflows (entry);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
  g_signal_connect (sfs, "items-changed", G_CALLBACK (record_change_cb), changes);

  /* appears */
  sf2 = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_list_model_get_n_items (sfs) < 2 && g_get_monotonic_time () < end)
    {
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_assert_no_error (error);
      g_usleep (10 * 1000);
    }
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 0);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 1);
  entry2 = g_list_model_get_item (sfs, 1);
  read_assert_same_address (mptcp_subflow_entry_get_remote_address (entry2), G_SOCKET_ADDRESS (r2));
  {
    g_autofree char *ip = g_inet_address_to_string (
      g_inet_socket_address_get_address (mptcp_subflow_entry_get_local_address (entry2)));

    g_assert_cmpstr (ip, ==, TESTBED_CLIENT2_V4);
  }
  g_assert_true (mptcp_subflow_entry_get_join (entry2));
  g_assert_cmpuint (mptcp_subflow_entry_get_local_id (entry2), >, 0);
  g_assert_cmpuint (mptcp_subflow_entry_get_remote_id (entry2), ==, 7);
  g_assert_false (mptcp_subflow_entry_get_backup (entry2));
  g_assert_false (mptcp_subflow_entry_get_peer_backup (entry2));
  assert_list_equals_ss (list, TRUE);
  g_signal_connect (entry2, "notify::backup", G_CALLBACK (on_notify_cb), &backup_notes);
  g_signal_connect (entry2, "notify::peer-backup", G_CALLBACK (on_notify_cb), &peer_notes);
  g_signal_connect (entry2, "notify::state", G_CALLBACK (on_notify_cb), &state_notes);

  /* this host marks it backup (MP_PRIO from the client) */
  g_assert_true (mptcp_subflow_set_backup (sf2, TRUE, NULL, &error));
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!mptcp_subflow_entry_get_backup (entry2) && g_get_monotonic_time () < end)
    {
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_usleep (10 * 1000);
    }
  g_assert_true (mptcp_subflow_entry_get_backup (entry2));
  g_assert_false (mptcp_subflow_entry_get_peer_backup (entry2));
  g_assert_cmpuint (backup_notes, ==, 1);
  g_assert_cmpuint (peer_notes, ==, 0);

  /* the peer marks it backup (MP_PRIO from the server, for its endpoint's address) */
  g_assert_true (testbed_run_in_server (backup_ep, NULL, &error));
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!mptcp_subflow_entry_get_peer_backup (entry2) && g_get_monotonic_time () < end)
    {
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_usleep (10 * 1000);
    }
  g_assert_true (mptcp_subflow_entry_get_peer_backup (entry2));
  g_assert_true (mptcp_subflow_entry_get_backup (entry2));
  g_assert_cmpuint (backup_notes, ==, 1);
  g_assert_cmpuint (peer_notes, ==, 1);
  {
    /* the first subflow is not a backup in either direction */
    g_autoptr(MptcpSubflowEntry) first = g_list_model_get_item (sfs, 0);

    g_assert_false (mptcp_subflow_entry_get_backup (first));
    g_assert_false (mptcp_subflow_entry_get_peer_backup (first));
  }

  /* disappears */
  g_assert_true (mptcp_subflow_close (sf2, NULL, &error));
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_list_model_get_n_items (sfs) > 1 && g_get_monotonic_time () < end)
    {
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_usleep (10 * 1000);
    }
  g_assert_cmpuint (changes->len, ==, 2);
  g_assert_cmpuint (g_array_index (changes, Change, 1).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 1).removed, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 1).added, ==, 0);
  g_assert_cmpuint (mptcp_subflow_entry_get_state (entry2), ==, MPTCP_TCP_STATE_CLOSE);
  g_assert_cmpuint (state_notes, >=, 1);
  /* the connection itself did not move: its entry is the same object. (The list's own
   * items-changed are not counted: the previous test's connections may still be closing
   * under load, and leave the namespace's list meanwhile.) */
  g_assert_true (mptcp_connection_list_find_token (list, mptcp_connection_get_token (connection)) == entry);

  g_signal_handlers_disconnect_by_data (sfs, changes);
  g_assert_true (testbed_run_in_server (del_ep, NULL, &error));
  g_assert_no_error (error);
}

/* Refreshes the connection (the flags are read at most every 100 ms) until the second
 * subflow's property prop is want, for at most 5 s. */
static void
refresh_until (MptcpConnection *connection, MptcpSubflow *sf, const char *prop, gboolean want)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  gboolean value = !want;

  while (g_get_monotonic_time () < end)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (mptcp_connection_refresh (connection, &error));
      g_assert_no_error (error);
      g_object_get (sf, prop, &value, NULL);
      if (value == want)
        break;
      g_usleep (20 * 1000);
    }
  g_assert_true (value == want);
}

/* In a forked child as uid 65534 without CAP_NET_ADMIN: a fresh MptcpConnection over the same
 * socket (this library instance asked nothing) refreshes. Where ss as 65534 sees the subflows'
 * MPTCP details (6.18), both flags come from the kernel: backup TRUE (the parent's request,
 * which only the kernel can tell this process) and peer-backup TRUE. Where it does not (6.1,
 * 6.12), today's behaviour: backup is the library's last request (none: FALSE), peer-backup
 * FALSE. Returns so that everything is freed before the child exits. */
static void
backup_as_nobody (GSocket *socket, guint id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) mine = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autofree char *theirs = NULL;
  MptcpSubflow *sf = NULL;
  GListModel *sfs;
  gboolean ulp_seen = FALSE;

  if (setgroups (0, NULL) != 0 || setresgid (NOBODY, NOBODY, NOBODY) != 0 ||
      setresuid (NOBODY, NOBODY, NOBODY) != 0)
    _exit (2);
  mine = g_socket_new_from_fd (dup (g_socket_get_fd (socket)), &error);
  g_assert_no_error (error);
  connection = mptcp_connection_new (mine, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  sfs = mptcp_connection_get_subflows (connection);
  for (guint i = 0; i < g_list_model_get_n_items (sfs); i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (sfs, i);

      if (mptcp_subflow_get_id (item) == id)
        sf = item;
    }
  g_assert_nonnull (sf);
  theirs = ss_view (TRUE, &ulp_seen);
  if (ulp_seen)
    {
      g_assert_true (mptcp_subflow_get_backup (sf));
      g_assert_true (mptcp_subflow_get_peer_backup (sf));
    }
  else
    {
      g_test_message ("the kernel hides subflow details from uid 65534: flags not read");
      g_assert_false (mptcp_subflow_get_backup (sf));
      g_assert_false (mptcp_subflow_get_peer_backup (sf));
    }
}

/* The caller's own MptcpConnection reads its subflows' backup flags from sock_diag
 * (MptcpSubflow:backup = BKUP_LOC, :peer-backup = BKUP_REM). The test runs as root, so every
 * kernel (6.1, 6.12, 6.18) gives the ULP info and this checks the same on each: the peer's
 * MP_PRIO (server endpoint turned backup) shows as peer-backup with one notify, backup stays
 * FALSE; a local set_backup reads back TRUE from the kernel (one notify: the read that follows
 * agrees with the request, and peer-backup is untouched). Then the kernel-dependent part, as
 * uid 65534: see backup_as_nobody(). */
static void
test_own_subflow_backup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf2 = NULL;
  const char *add_ep[] = { "ip", "mptcp", "endpoint", "add", TESTBED_SERVER2_V4, "dev",
                           TESTBED_SERVER2_IFNAME, "id", "7", NULL };
  const char *backup_ep[] = { "ip", "mptcp", "endpoint", "change", "id", "7", "backup", NULL };
  const char *del_ep[] = { "ip", "mptcp", "endpoint", "delete", "id", "7", NULL };
  GListModel *sfs;
  guint backup_notes = 0, peer_notes = 0;
  gint64 end;

  g_assert_true (testbed_run_in_server (add_ep, NULL, &error));
  g_assert_no_error (error);

  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  read_send_bytes (socket, 1000);
  g_assert_true (read_wait_for_established (connection, 5000));
  sfs = mptcp_connection_get_subflows (connection);

  sf2 = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_list_model_get_n_items (sfs) < 2 && g_get_monotonic_time () < end)
    {
      g_assert_true (mptcp_connection_refresh (connection, &error));
      g_assert_no_error (error);
      g_usleep (10 * 1000);
    }
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 2);
  g_assert_false (mptcp_subflow_get_backup (sf2));
  g_assert_false (mptcp_subflow_get_peer_backup (sf2));
  g_signal_connect (sf2, "notify::backup", G_CALLBACK (on_notify_cb), &backup_notes);
  g_signal_connect (sf2, "notify::peer-backup", G_CALLBACK (on_notify_cb), &peer_notes);

  /* the peer marks it backup: only the kernel knows, sock_diag tells */
  g_assert_true (testbed_run_in_server (backup_ep, NULL, &error));
  g_assert_no_error (error);
  refresh_until (connection, sf2, "peer-backup", TRUE);
  g_assert_cmpuint (peer_notes, ==, 1);
  g_assert_cmpuint (backup_notes, ==, 0);
  g_assert_false (mptcp_subflow_get_backup (sf2));

  /* this host marks it backup: TRUE, and still TRUE as read back from the kernel */
  g_assert_true (mptcp_subflow_set_backup (sf2, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_usleep (150 * 1000);
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_get_backup (sf2));
  g_assert_cmpuint (backup_notes, ==, 1);

  g_assert_true (mptcp_subflow_get_peer_backup (sf2));
  g_assert_cmpuint (peer_notes, ==, 1);
  {
    /* the first subflow: no backup in either direction */
    g_autoptr(MptcpSubflow) first = g_list_model_get_item (sfs, 0);

    g_assert_false (mptcp_subflow_get_backup (first));
    g_assert_false (mptcp_subflow_get_peer_backup (first));
  }

  /* the same socket seen by an unprivileged process */
  {
    int status;
    GPid child = fork ();

    g_assert_cmpint (child, >=, 0);
    if (child == 0)
      {
        backup_as_nobody (socket, mptcp_subflow_get_id (sf2));
        _exit (0);
      }
    g_assert_cmpint (waitpid (child, &status, 0), ==, child);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  }

  g_signal_handlers_disconnect_by_data (sf2, &backup_notes);
  g_signal_handlers_disconnect_by_data (sf2, &peer_notes);
  g_assert_true (testbed_run_in_server (del_ep, NULL, &error));
  g_assert_no_error (error);
}

static void
refresh_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **out = user_data;

  if (!mptcp_connection_list_refresh_finish (MPTCP_CONNECTION_LIST (source), result, out))
    g_assert_nonnull (*out);
  else
    *out = g_error_new_literal (G_IO_ERROR, 0, "ok");
}

static void
wait_refresh_async (MptcpConnectionList *list, GCancellable *cancellable, GError **out)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  *out = NULL;
  mptcp_connection_list_refresh_async (list, cancellable, refresh_done_cb, out);
  while (*out == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (*out);
}

/* 1,000 connections: all listed, an unchanged dump emits nothing (sync and async), closing
 * ten of them removes exactly those ten. */
static void
test_thousand (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GHashTable) ports = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) closed = g_ptr_array_new_with_free_func (g_object_unref);
  struct rlimit rl;
  int fds[1000];
  guint ours = 0, notes = 0, removed = 0;
  gint64 end;
  GError *result = NULL;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_cur < 4096)
    {
      rl.rlim_cur = MIN ((rlim_t) 4096, rl.rlim_max);
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    {
      struct sockaddr_in sin;
      socklen_t len = sizeof sin;

      fds[i] = connect_raw (i % 2 ? TESTBED_SERVER2_V4 : TESTBED_SERVER1_V4, TESTBED_PORT_SINK);
      g_assert_cmpint (getsockname (fds[i], (struct sockaddr *) &sin, &len), ==, 0);
      g_hash_table_add (ports, GUINT_TO_POINTER (g_ntohs (sin.sin_port)));
    }

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_connection_list_set_interval (list, 0);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      ours = 0;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
        {
          g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);
          guint16 port = g_inet_socket_address_get_port (mptcp_connection_entry_get_local_address (e));

          if (g_hash_table_contains (ports, GUINT_TO_POINTER (port)) &&
              mptcp_connection_entry_get_state (e) == MPTCP_TCP_STATE_ESTABLISHED &&
              g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e)) == 1)
            ours++;
        }
      if (ours == G_N_ELEMENTS (fds) || g_get_monotonic_time () > end)
        break;
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
    }
  g_assert_cmpuint (ours, ==, G_N_ELEMENTS (fds));

  /* nothing changes: nothing emitted, on the list, the entries or their subflows */
  g_signal_connect (list, "items-changed", G_CALLBACK (record_change_cb), changes);
  g_signal_connect (list, "notify", G_CALLBACK (on_notify_cb), &notes);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);
      GListModel *sfs = mptcp_connection_entry_get_subflows (e);

      g_signal_connect (e, "notify", G_CALLBACK (on_notify_cb), &notes);
      g_signal_connect (sfs, "items-changed", G_CALLBACK (record_change_cb), changes);
      for (guint k = 0; k < g_list_model_get_n_items (sfs); k++)
        {
          g_autoptr(MptcpSubflowEntry) sf = g_list_model_get_item (sfs, k);

          g_signal_connect (sf, "notify", G_CALLBACK (on_notify_cb), &notes);
        }
    }
  g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
  g_assert_no_error (error);
  wait_refresh_async (list, NULL, &result);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);
  g_assert_cmpuint (changes->len, ==, 0);
  g_assert_cmpuint (notes, ==, 0);

  /* ten go (aborted: no FIN dance to wait for), exactly those ten leave */
  for (guint i = 0; i < 10; i++)
    {
      struct linger lg = { 1, 0 };
      struct sockaddr_in sin;
      socklen_t len = sizeof sin;
      guint fd_index = i * 97;

      g_assert_cmpint (getsockname (fds[fd_index], (struct sockaddr *) &sin, &len), ==, 0);
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (list)); k++)
        {
          MptcpConnectionEntry *e = g_list_model_get_item (G_LIST_MODEL (list), k);

          g_autofree char *local = read_address_string (mptcp_connection_entry_get_local_address (e));
          char want[64];

          g_snprintf (want, sizeof want, "%s:%u", inet_ntoa (sin.sin_addr), g_ntohs (sin.sin_port));
          if (g_str_equal (local, want))
            g_ptr_array_add (closed, e);
          else
            g_object_unref (e);
        }
      g_assert_cmpint (setsockopt (fds[fd_index], SOL_SOCKET, SO_LINGER, &lg, sizeof lg), ==, 0);
      close (fds[fd_index]);
      fds[fd_index] = -1;
    }
  g_assert_cmpuint (closed->len, ==, 10);
  notes = 0;
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      guint gone = 0;

      for (guint i = 0; i < closed->len; i++)
        if (mptcp_connection_entry_get_state (closed->pdata[i]) == MPTCP_TCP_STATE_CLOSE)
          gone++;
      if (gone == closed->len || g_get_monotonic_time () > end)
        break;
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < changes->len; i++)
    {
      g_assert_cmpuint (g_array_index (changes, Change, i).added, ==, 0);
      removed += g_array_index (changes, Change, i).removed;
    }
  /* ten connections and their ten subflows */
  g_assert_cmpuint (removed, ==, 20);
  for (guint i = 0; i < closed->len; i++)
    {
      MptcpConnectionEntry *e = closed->pdata[i];

      g_assert_cmpuint (mptcp_connection_entry_get_state (e), ==, MPTCP_TCP_STATE_CLOSE);
      g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e)), ==, 0);
      g_assert_null (mptcp_connection_list_find_token (list, mptcp_connection_entry_get_token (e)));
    }
  g_signal_handlers_disconnect_by_data (list, changes);
  g_signal_handlers_disconnect_by_data (list, &notes);

  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* refresh_async: a new connection shows in the callback; the periodic dump finds the next. */
static void
test_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GError *result = NULL;
  guint before;
  int fd;
  gint64 end;

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  mptcp_connection_list_set_interval (list, 0);
  before = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_signal_connect (list, "items-changed", G_CALLBACK (record_change_cb), changes);

  fd = connect_raw (TESTBED_SERVER1_V4, TESTBED_PORT_SINK);
  g_usleep (100 * 1000);
  wait_refresh_async (list, NULL, &result);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);
  /* the new connection is appended (connections the previous test closed may leave too) */
  g_assert_cmpuint (changes->len, >=, 1);
  g_assert_cmpuint (g_array_index (changes, Change, changes->len - 1).added, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, changes->len - 1).position, ==,
                    g_list_model_get_n_items (G_LIST_MODEL (list)) - 1);
  {
    g_autoptr(MptcpConnectionEntry) last =
      g_list_model_get_item (G_LIST_MODEL (list), g_list_model_get_n_items (G_LIST_MODEL (list)) - 1);
    g_autofree char *local = read_address_string (mptcp_connection_entry_get_local_address (last));
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    char want[64];

    g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sin, &len), ==, 0);
    g_snprintf (want, sizeof want, "%s:%u", inet_ntoa (sin.sin_addr), g_ntohs (sin.sin_port));
    g_assert_cmpstr (local, ==, want);
  }
  (void) before;
  g_array_set_size (changes, 0);

  /* cancelled before it ran: G_IO_ERROR_CANCELLED */
  g_cancellable_cancel (cancellable);
  wait_refresh_async (list, cancellable, &result);
  g_assert_error (result, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&result);
  g_assert_false (mptcp_connection_list_refresh (list, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* periodic */
  close (fd);
  fd = connect_raw (TESTBED_SERVER1_V4, TESTBED_PORT_SINK);
  mptcp_connection_list_set_interval (list, 50);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (changes->len < 1 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (changes->len, >=, 1);
  /* a sync refresh while a periodic one may run */
  g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
  g_assert_no_error (error);
  g_signal_handlers_disconnect_by_data (list, changes);
  close (fd);
}

static void
flag_cb (gpointer instance, gpointer arg, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
removed_cb (MptcpConnection *c, MptcpSubflow *sf, const GError *error, MptcpResetReason reason,
            gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* Iterates the default context until *flag, for at most 5 s. */
static void
iterate_until (gboolean *flag)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!*flag && g_get_monotonic_time () < end)
    g_main_context_iteration (g_main_context_get_thread_default (), FALSE) ||
      (g_usleep (1000), TRUE);
  g_assert_true (*flag);
}

static void
n_items_cb (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* uid 65534: no events, the periodic dumps find a new connection (in a forked child). */
static void
events_as_nobody (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  gboolean changed = FALSE;
  guint dumps;
  int fd;

  if (setgroups (0, NULL) != 0 || setresgid (NOBODY, NOBODY, NOBODY) != 0 ||
      setresuid (NOBODY, NOBODY, NOBODY) != 0)
    _exit (2);
  /* a context of its own: the parent's broker (and its event socket) came with the fork */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mptcp_connection_list_get_event_source (list), ==, MPTCP_EVENT_SOURCE_POLLING);
  dumps = _mptcp_connection_list_get_n_dumps (list);
  mptcp_connection_list_set_interval (list, 50);
  g_signal_connect (list, "items-changed", G_CALLBACK (n_items_cb), &changed);
  fd = connect_raw (TESTBED_SERVER1_V4, TESTBED_PORT_SINK);
  iterate_until (&changed);
  g_assert_cmpuint (_mptcp_connection_list_get_n_dumps (list), >, dumps);
  g_assert_cmpuint (count_uid (list, NOBODY), ==, 1);
  g_signal_handlers_disconnect_by_data (list, &changed);
  close (fd);
  g_clear_object (&list);
  g_main_context_pop_thread_default (context);
}

/* With CAP_NET_ADMIN the list follows the event stream: a connection, its second subflow,
 * the peer's backup flag and the closes each show within the main-loop iteration that read
 * their event, with exact items-changed, and no dump (the interval is an hour). */
static void
test_events (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  g_autoptr(MptcpSubflow) sf2 = NULL;
  g_autoptr(MptcpSubflowEntry) entry2 = NULL;
  g_autoptr(MptcpConnectionEntry) entry = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GArray) list_changes = g_array_new (FALSE, FALSE, sizeof (Change));
  const char *add_ep[] = { "ip", "mptcp", "endpoint", "add", TESTBED_SERVER2_V4, "dev",
                           TESTBED_SERVER2_IFNAME, "id", "7", NULL };
  const char *backup_ep[] = { "ip", "mptcp", "endpoint", "change", "id", "7", "backup", NULL };
  const char *del_ep[] = { "ip", "mptcp", "endpoint", "delete", "id", "7", NULL };
  gboolean added = FALSE, removed = FALSE, peer = FALSE;
  GListModel *sfs;
  guint dumps, token, position;

  g_assert_true (testbed_run_in_server (add_ep, NULL, &error));
  g_assert_no_error (error);

  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mptcp_connection_list_get_event_source (list), ==, MPTCP_EVENT_SOURCE_NETLINK);
  mptcp_connection_list_set_interval (list, 3600 * 1000);
  dumps = _mptcp_connection_list_get_n_dumps (list);
  g_signal_connect (list, "items-changed", G_CALLBACK (record_change_cb), list_changes);

  /* a connection: CREATED / ESTABLISHED */
  socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  connection = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  read_send_bytes (socket, 1000);
  g_assert_true (read_wait_for_established (connection, 5000));
  token = mptcp_connection_get_token (connection);
  {
    gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (mptcp_connection_list_find_token (list, token) == NULL &&
           g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  }
  g_assert_nonnull (mptcp_connection_list_find_token (list, token));
  entry = g_object_ref (mptcp_connection_list_find_token (list, token));
  /* appended (a CLOSED event of an older connection that still lingered in the first dump
   * may remove that one meanwhile: single removals are allowed besides) */
  {
    const Change *last = &g_array_index (list_changes, Change, list_changes->len - 1);

    g_assert_cmpuint (list_changes->len, >=, 1);
    g_assert_cmpuint (last->position, ==, g_list_model_get_n_items (G_LIST_MODEL (list)) - 1);
    g_assert_cmpuint (last->added, ==, 1);
    g_assert_cmpuint (last->removed, ==, 0);
    for (guint i = 0; i + 1 < list_changes->len; i++)
      g_assert_true (g_array_index (list_changes, Change, i).removed == 1 &&
                     g_array_index (list_changes, Change, i).added == 0);
  }
  g_assert_cmpuint (mptcp_connection_entry_get_state (entry), ==, MPTCP_TCP_STATE_ESTABLISHED);
  g_assert_cmpuint (mptcp_connection_entry_get_uid (entry), ==, 0);
  g_assert_cmpuint (mptcp_connection_entry_get_inode (entry), >, 0);
  sfs = mptcp_connection_entry_get_subflows (entry);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
  g_signal_connect (sfs, "items-changed", G_CALLBACK (record_change_cb), changes);

  /* a second subflow: in the list within the iteration that emitted subflow-added (the same
   * SUB_ESTABLISHED event, read once by the broker) */
  g_signal_connect (connection, "subflow-added", G_CALLBACK (flag_cb), &added);
  mptcp_connection_open_subflow_async (connection, l2, r2, NULL, read_open_subflow_ok_cb, &sf2);
  iterate_until (&added);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 2);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 1);
  entry2 = g_list_model_get_item (sfs, 1);
  read_assert_same_address (mptcp_subflow_entry_get_remote_address (entry2), G_SOCKET_ADDRESS (r2));
  g_assert_cmpuint (mptcp_subflow_entry_get_remote_id (entry2), ==, 7);
  g_assert_true (mptcp_subflow_entry_get_join (entry2));
  g_assert_false (mptcp_subflow_entry_get_peer_backup (entry2));
  {
    g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_entry_get_stats (entry2);

    g_assert_cmpuint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
  }
  while (sf2 == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* the peer's MP_PRIO: SUB_PRIORITY */
  g_signal_connect (entry2, "notify::peer-backup", G_CALLBACK (flag_cb), &peer);
  g_assert_true (testbed_run_in_server (backup_ep, NULL, &error));
  g_assert_no_error (error);
  iterate_until (&peer);
  g_assert_true (mptcp_subflow_entry_get_peer_backup (entry2));

  /* the subflow closes: SUB_CLOSED */
  g_signal_connect (connection, "subflow-removed", G_CALLBACK (removed_cb), &removed);
  g_assert_true (mptcp_subflow_close (sf2, NULL, &error));
  g_assert_no_error (error);
  iterate_until (&removed);
  {
    gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (g_list_model_get_n_items (sfs) > 1 && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  }
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
  g_assert_cmpuint (changes->len, ==, 2);
  g_assert_cmpuint (g_array_index (changes, Change, 1).position, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 1).removed, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 1).added, ==, 0);
  g_assert_cmpuint (mptcp_subflow_entry_get_state (entry2), ==, MPTCP_TCP_STATE_CLOSE);

  /* the connection closes: CLOSED */
  g_array_set_size (list_changes, 0);
  for (position = 0; position < g_list_model_get_n_items (G_LIST_MODEL (list)); position++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), position);

      if (e == entry)
        break;
    }
  g_signal_handlers_disconnect_by_data (connection, &added);
  g_signal_handlers_disconnect_by_data (connection, &removed);
  g_clear_object (&connection);
  g_clear_object (&sf2);
  g_socket_close (socket, NULL);
  {
    gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (mptcp_connection_list_find_token (list, token) != NULL &&
           g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  }
  g_assert_null (mptcp_connection_list_find_token (list, token));
  /* single removals only; the entry's at its position (less those removed before it) */
  {
    guint before = 0;
    gboolean seen = FALSE;

    for (guint i = 0; i < list_changes->len; i++)
      {
        const Change *c = &g_array_index (list_changes, Change, i);

        g_assert_true (c->removed == 1 && c->added == 0);
        if (c->position == position - before && !seen)
          seen = TRUE;
        else if (c->position < position - before)
          before++;
      }
    g_assert_true (seen);
  }
  g_assert_cmpuint (mptcp_connection_entry_get_state (entry), ==, MPTCP_TCP_STATE_CLOSE);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 0);

  /* all of it without a dump */
  g_assert_cmpuint (_mptcp_connection_list_get_n_dumps (list), ==, dumps);
  g_signal_handlers_disconnect_by_data (list, list_changes);
  g_signal_handlers_disconnect_by_data (sfs, changes);
  g_signal_handlers_disconnect_by_data (entry2, &peer);
  g_assert_true (testbed_run_in_server (del_ep, NULL, &error));
  g_assert_no_error (error);
}

/* As uid 65534 the list polls (a test of its own: nothing of the previous one is alive in
 * the child, which valgrind checks too). */
static void
test_events_unprivileged (void)
{
  int status;
  GPid child = fork ();

  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      events_as_nobody ();
      _exit (0);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
closed_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  *(gboolean *) user_data = mptcp_connection_is_closed (MPTCP_CONNECTION (object));
}

/* Iterates the default context until the subflow model has n items, for at most 5 s. */
static void
iterate_until_n (GListModel *model, guint n)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_list_model_get_n_items (model) != n && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
}

/* A connection of another process (a child holds its socket), steered through the
 * socketless MptcpConnection its list entry hands out: a subflow opened, marked backup and
 * closed by token; the list shows each step; the owner's close ends the handle. */
static void
test_steer_by_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(MptcpConnectionEntry) entry = NULL;
  g_autoptr(MptcpConnection) connection = NULL;
  g_autoptr(MptcpConnection) again = NULL;
  g_autoptr(MptcpConnectionInfo) info = NULL;
  g_autoptr(MptcpSubflow) sf2 = NULL;
  g_autoptr(MptcpSubflowEntry) entry2 = NULL;
  g_autoptr(GInetSocketAddress) l2 = read_inet_address (TESTBED_CLIENT2_V4, 0);
  g_autoptr(GInetSocketAddress) r2 = read_inet_address (TESTBED_SERVER2_V4, TESTBED_PORT_SINK);
  GListModel *sfs, *listed;
  gboolean closed = FALSE;
  int hold;
  GPid holder;

  holder = spawn_holder (1, FALSE, 0, &hold);
  list = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)) && entry == NULL; i++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (mptcp_connection_entry_find_pid (e) == holder)
        entry = g_steal_pointer (&e);
    }
  g_assert_nonnull (entry);
  listed = mptcp_connection_entry_get_subflows (entry);
  g_assert_cmpuint (g_list_model_get_n_items (listed), ==, 1);

  connection = mptcp_connection_entry_dup_connection (entry, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  again = mptcp_connection_entry_dup_connection (entry, &error);
  g_assert_no_error (error);
  g_assert_true (again == connection);
  g_assert_null (mptcp_connection_get_socket (connection));
  g_assert_cmpuint (mptcp_connection_get_token (connection), ==,
                    mptcp_connection_entry_get_token (entry));
  g_assert_cmpint (mptcp_connection_get_event_source (connection), ==, MPTCP_EVENT_SOURCE_NETLINK);
  g_assert_false (mptcp_connection_get_fallback (connection));
  read_assert_same_address (mptcp_connection_get_local_address (connection),
                            G_SOCKET_ADDRESS (mptcp_connection_entry_get_local_address (entry)));
  read_assert_same_address (mptcp_connection_get_remote_address (connection),
                            G_SOCKET_ADDRESS (mptcp_connection_entry_get_remote_address (entry)));
  sfs = mptcp_connection_get_subflows (connection);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
  info = mptcp_connection_get_info (connection, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mptcp_connection_info_get_token (info), ==,
                    mptcp_connection_get_token (connection));
  g_signal_connect (connection, "notify::closed", G_CALLBACK (closed_cb), &closed);

  /* open */
  sf2 = mptcp_connection_open_subflow (connection, l2, r2, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sf2);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 2);
  {
    g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (sf2);

    g_assert_nonnull (stats);
    g_assert_cmpuint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
  }
  read_assert_same_address (mptcp_subflow_get_remote_address (sf2), G_SOCKET_ADDRESS (r2));
  iterate_until_n (listed, 2);
  entry2 = g_list_model_get_item (listed, 1);
  read_assert_same_address (mptcp_subflow_entry_get_remote_address (entry2), G_SOCKET_ADDRESS (r2));

  /* backup: the request, then the kernel's flag read back from sock_diag */
  g_assert_true (mptcp_subflow_set_backup (sf2, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_get_backup (sf2));
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_get_backup (sf2));
  g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mptcp_subflow_entry_get_backup (entry2));

  /* close */
  g_assert_true (mptcp_subflow_close (sf2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 1);
  iterate_until_n (listed, 1);
  g_assert_cmpuint (mptcp_subflow_entry_get_state (entry2), ==, MPTCP_TCP_STATE_CLOSE);

  /* the owner closes its socket: CLOSED */
  release_holder (holder, hold);
  iterate_until (&closed);
  g_assert_cmpuint (g_list_model_get_n_items (sfs), ==, 0);
  g_assert_null (mptcp_connection_get_info (connection, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_null (mptcp_connection_open_subflow (connection, l2, r2, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_CLOSED);
  g_clear_error (&error);
  g_signal_handlers_disconnect_by_data (connection, &closed);

  /* a token nobody has (the closed connection's may stay in the kernel's table a while) */
  {
    guint32 unknown = mptcp_connection_get_token (connection);

    g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
    do
      unknown = unknown * 1103515245u + 12345u;
    while (unknown == 0 || mptcp_connection_list_find_token (list, unknown) != NULL);
    g_assert_null (mptcp_connection_new_for_token (unknown, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
}

/* ---- a token handle's refresh without a dump of the namespace ---- */

static int
compare_text (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static char *
subflows_text (MptcpConnection *connection)
{
  GListModel *model = mptcp_connection_get_subflows (connection);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new ("");

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(MptcpSubflow) item = g_list_model_get_item (model, i);

      g_ptr_array_add (items, read_subflow_tuple (item));
    }
  g_ptr_array_sort (items, compare_text);
  for (guint i = 0; i < items->len; i++)
    g_string_append_printf (out, "%s;", (char *) g_ptr_array_index (items, i));
  return g_string_free (out, FALSE);
}

/* A subflow request for token made through a broker of its own, behind the handle's back (its
 * events are read only when the test runs the main context). */
static void
token_request (guint8 cmd, guint32 token, guint16 local_port)
{
  g_autoptr(GError) error = NULL;
  MptcpNlReply *reply;

  reply = request_subflow_v4 (cmd, token, TESTBED_CLIENT2_V4, local_port,
                              cmd == MPTCP_PM_CMD_SUBFLOW_CREATE ? 9 : 0,
                              TESTBED_SERVER2_V4, TESTBED_PORT_SINK, &error);
  g_assert_no_error (error);
  _mptcp_nl_reply_free (reply);
}

/* The handle's list after a refresh, and the namespace dumps that refresh made. */
static guint
token_refresh (MptcpConnection *handle, MptcpConnection *own, char **text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  guint before = _mptcp_sockdiag_count_dumps ();

  g_assert_true (mptcp_connection_refresh (handle, &error));
  g_assert_no_error (error);
  before = _mptcp_sockdiag_count_dumps () - before;
  g_assert_true (mptcp_connection_refresh (own, &error));
  g_assert_no_error (error);
  *text = subflows_text (handle);
  expected = subflows_text (own);
  g_assert_cmpstr (*text, ==, expected);
  return before;
}

/* A token handle's refresh reads its own connection only (a lookup by token and its subflows
 * by 4-tuple) when the kernel counts the connection's subflows (mptcpi_subflows_total, 6.10+)
 * and the count says nothing came that the last read did not see; a subflow made or closed
 * behind its back (before its events are read) is seen at the next refresh all the same, the
 * new one through a dump. The handle's list equals the socket's at each step, the statistics
 * are fresh and the backup flags are read. Without the count (6.1), every refresh dumps, as
 * before. */
static void
test_token_refresh_lookup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = read_connect_mptcp (G_SOCKET_FAMILY_IPV4, 1, TESTBED_PORT_SINK);
  g_autoptr(MptcpConnection) own = NULL;
  g_autoptr(MptcpConnection) handle = NULL;
  g_autoptr(MptcpConnectionInfo) info = NULL;
  g_autofree char *text = NULL;
  gboolean counted;
  guint16 port = 0;
  guint64 acked;
  gint64 end;

  own = mptcp_connection_new (socket, &error);
  g_assert_no_error (error);
  read_send_bytes (socket, 1000);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (!mptcp_connection_is_established (own) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_assert_true (mptcp_connection_is_established (own));

  handle = mptcp_connection_new_for_token (mptcp_connection_get_token (own), &error);
  g_assert_no_error (error);
  info = mptcp_connection_get_info (handle, &error);
  g_assert_no_error (error);
  counted = mptcp_connection_info_has_field (info, MPTCP_CONNECTION_INFO_FIELD_SUBFLOWS_TOTAL);
  g_test_message ("the kernel %s mptcpi_subflows_total", counted ? "has" : "lacks");

  /* nothing changed */
  g_assert_cmpuint (token_refresh (handle, own, &text), ==, counted ? 0 : 1);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)), ==, 1);
  g_clear_pointer (&text, g_free);

  /* a subflow made behind its back: the count differs, a dump finds it */
  token_request (MPTCP_PM_CMD_SUBFLOW_CREATE, mptcp_connection_get_token (own), 0);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  do
    {
      g_autoptr(MptcpConnectionInfo) now = mptcp_connection_get_info (own, &error);

      g_assert_no_error (error);
      if (!counted || mptcp_connection_info_get_subflows_total (now) == 2)
        break;
      g_usleep (1000);
    }
  while (g_get_monotonic_time () < end);
  g_assert_cmpuint (token_refresh (handle, own, &text), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)), ==, 2);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (token_refresh (handle, own, &text), ==, counted ? 0 : 1);
  g_clear_pointer (&text, g_free);

  /* fresh statistics: the data sent now is acked on some subflow */
  {
    GListModel *model = mptcp_connection_get_subflows (handle);

    acked = 0;
    for (guint i = 0; i < g_list_model_get_n_items (model); i++)
      {
        g_autoptr(MptcpSubflow) sf = g_list_model_get_item (model, i);
        g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (sf);
        GInetSocketAddress *local = G_INET_SOCKET_ADDRESS (mptcp_subflow_get_local_address (sf));
        g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (local));

        acked += mptcp_subflow_stats_get_bytes_acked (stats);
        if (g_strcmp0 (ip, TESTBED_CLIENT2_V4) == 0)
          port = g_inet_socket_address_get_port (local);
      }
  }
  g_assert_cmpuint (port, !=, 0);
  read_send_bytes (socket, 100000);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      GListModel *model = mptcp_connection_get_subflows (handle);
      guint64 now = 0;

      g_assert_cmpuint (token_refresh (handle, own, &text), ==, counted ? 0 : 1);
      g_clear_pointer (&text, g_free);
      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(MptcpSubflow) sf = g_list_model_get_item (model, i);
          g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_get_stats (sf);

          now += mptcp_subflow_stats_get_bytes_acked (stats);
        }
      if (now >= acked + 100000 || g_get_monotonic_time () > end)
        {
          g_assert_cmpuint (now, >=, acked + 100000);
          break;
        }
      g_usleep (10000);
    }

  /* closed behind its back: gone without a dump. Right after the destroy, sock_diag may still
   * show the subflow closing (FIN_WAIT, with its ULP info) where getsockopt lists it no more, by
   * a dump as by a lookup: wait until the kernel's view settles */
  token_request (MPTCP_PM_CMD_SUBFLOW_DESTROY, mptcp_connection_get_token (own), port);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      g_assert_true (mptcp_connection_refresh (handle, &error));
      g_assert_no_error (error);
      if (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)) == 1 ||
          g_get_monotonic_time () > end)
        break;
      g_usleep (10000);
    }
  g_assert_cmpuint (token_refresh (handle, own, &text), ==, counted ? 0 : 1);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)), ==, 1);
  g_clear_pointer (&text, g_free);

  /* the events read late change nothing */
  end = g_get_monotonic_time () + 200 * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  token_refresh (handle, own, &text);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_get_subflows (handle)), ==, 1);
}

/* privileges dropped before anything joins the event group (the parent's broker came with
 * the fork: a context of its own) */
static void
token_as_nobody (guint32 token)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(MptcpConnection) other = NULL;

  if (setgroups (0, NULL) != 0 || setresgid (NOBODY, NOBODY, NOBODY) != 0 ||
      setresuid (NOBODY, NOBODY, NOBODY) != 0)
    _exit (2);
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  other = mptcp_connection_new_for_token (token, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_assert_null (other);
  g_main_context_pop_thread_default (context);
}

/* Without CAP_NET_ADMIN (a child as uid 65534): MPTCP_ERROR_PERMISSION_DENIED. */
static void
test_token_unprivileged (void)
{
  g_autoptr(GError) error = NULL;
  int fd = connect_raw (TESTBED_SERVER1_V4, TESTBED_PORT_SINK);
  g_autoptr(GSocket) mine = g_socket_new_from_fd (fd, &error);
  g_autoptr(MptcpConnection) own = mptcp_connection_new (mine, &error);
  guint32 token;
  int status;
  GPid holder;

  g_assert_no_error (error);
  token = mptcp_connection_get_token (own);
  holder = fork ();
  g_assert_cmpint (holder, >=, 0);
  if (holder == 0)
    {
      token_as_nobody (token);
      _exit (0);
    }
  g_assert_cmpint (waitpid (holder, &status, 0), ==, holder);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

/* The listed listener on port, or NULL (transfer none). */
static MptcpConnectionEntry *
find_listener_entry (MptcpConnectionList *list, guint16 port)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(MptcpConnectionEntry) e = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (mptcp_connection_entry_get_is_listener (e) &&
          g_inet_socket_address_get_port (mptcp_connection_entry_get_local_address (e)) == port)
        return e;   /* the list holds it */
    }
  return NULL;
}

/* Listening sockets: not listed by default, listed with include-listeners (at construction
 * or set later), with is-listener; with events (6.2+) a closed listener leaves at its
 * LISTENER_CLOSED event without a dump, a new one comes with the dump its LISTENER_CREATED
 * event starts. */
static void
test_listeners (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) v4 = NULL;
  g_autoptr(GSocket) v6 = NULL;
  g_autoptr(GSocket) later = NULL;
  g_autoptr(MptcpConnectionList) plain = NULL;
  g_autoptr(MptcpConnectionList) list = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  MptcpConnectionEntry *e;
  guint16 port4, port6, port_later;
  guint dumps;
  gint64 end;

  v4 = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port4);
  v6 = read_listen_mptcp (G_SOCKET_FAMILY_IPV6, "::", &port6);

  plain = mptcp_connection_list_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mptcp_connection_list_get_include_listeners (plain));
  g_assert_null (find_listener_entry (plain, port4));
  g_assert_null (find_listener_entry (plain, port6));

  list = g_initable_new (MPTCP_TYPE_CONNECTION_LIST, NULL, &error, "include-listeners", TRUE,
                         "interval", 3600 * 1000, NULL);
  g_assert_no_error (error);
  g_assert_true (mptcp_connection_list_get_include_listeners (list));
  for (guint k = 0; k < 2; k++)
    {
      e = find_listener_entry (list, k == 0 ? port4 : port6);
      g_assert_nonnull (e);
      g_assert_cmpuint (mptcp_connection_entry_get_state (e), ==, MPTCP_TCP_STATE_LISTEN);
      g_assert_cmpuint (mptcp_connection_entry_get_token (e), ==, 0);
      g_assert_cmpuint (mptcp_connection_entry_get_uid (e), ==, 0);
      g_assert_cmpuint (mptcp_connection_entry_get_inode (e), >, 0);
      g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e)), ==, 0);
      g_assert_cmpint (mptcp_connection_entry_find_pid (e), ==, getpid ());
    }

  /* set later: the next dump adds them, and drops them again */
  mptcp_connection_list_set_include_listeners (plain, TRUE);
  g_assert_true (mptcp_connection_list_refresh (plain, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (find_listener_entry (plain, port4));
  g_assert_nonnull (find_listener_entry (plain, port6));
  mptcp_connection_list_set_include_listeners (plain, FALSE);
  g_assert_true (mptcp_connection_list_refresh (plain, NULL, &error));
  g_assert_null (find_listener_entry (plain, port4));
  g_assert_null (find_listener_entry (plain, port6));

  if (!read_kernel_at_least (6, 2) ||
      mptcp_connection_list_get_event_source (list) != MPTCP_EVENT_SOURCE_NETLINK)
    {
      g_test_message ("no listener events: the dumps follow the listeners");
      g_assert_true (g_socket_close (v4, &error));
      g_assert_true (mptcp_connection_list_refresh (list, NULL, &error));
      g_assert_no_error (error);
      g_assert_null (find_listener_entry (list, port4));
      return;
    }

  /* closed: LISTENER_CLOSED, no dump */
  dumps = _mptcp_connection_list_get_n_dumps (list);
  g_signal_connect (list, "items-changed", G_CALLBACK (record_change_cb), changes);
  g_assert_true (g_socket_close (v4, &error));
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (find_listener_entry (list, port4) != NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_assert_null (find_listener_entry (list, port4));
  g_assert_nonnull (find_listener_entry (list, port6));
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).removed, ==, 1);
  g_assert_cmpuint (g_array_index (changes, Change, 0).added, ==, 0);
  g_assert_cmpuint (_mptcp_connection_list_get_n_dumps (list), ==, dumps);

  /* made: LISTENER_CREATED starts a dump */
  later = read_listen_mptcp (G_SOCKET_FAMILY_IPV4, TESTBED_CLIENT1_V4, &port_later);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (find_listener_entry (list, port_later) == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  g_assert_nonnull (find_listener_entry (list, port_later));
  g_assert_cmpuint (_mptcp_connection_list_get_n_dumps (list), ==, dumps + 1);
  g_signal_handlers_disconnect_by_data (list, changes);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/connection-list/other-processes", test_other_processes);
  g_test_add_func ("/connection-list/subflows", test_subflows);
  g_test_add_func ("/connection-list/own-subflow-backup", test_own_subflow_backup);
  g_test_add_func ("/connection-list/thousand", test_thousand);
  g_test_add_func ("/connection-list/async", test_async);
  g_test_add_func ("/connection-list/events", test_events);
  g_test_add_func ("/connection-list/events-unprivileged", test_events_unprivileged);
  g_test_add_func ("/connection-list/steer-by-token", test_steer_by_token);
  g_test_add_func ("/connection-list/token-unprivileged", test_token_unprivileged);
  g_test_add_func ("/connection-list/token-refresh-lookup", test_token_refresh_lookup);
  g_test_add_func ("/connection-list/listeners", test_listeners);
  return g_test_run ();
}
