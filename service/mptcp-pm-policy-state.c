/* mptcp-pm-policy-state.c: the policy's restart safety: the state file, and the adoption of
 * the namespace's connections at start
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <glib/gstdio.h>

#include "mptcp-sockdiag-private.h"
#include "mptcp-pm-policy-private.h"

/* The state file (restart safety): what no sock_diag dump tells of a connection, the peer's
 * announcements the policy accepted (and their count) and the signal endpoints it announced,
 * kept in $MPTCP_GLIB_SERVICE_RUNTIME_DIR or else $RUNTIME_DIRECTORY (systemd's
 * RuntimeDirectory=, kept over restarts with RuntimeDirectoryPreserve=yes); no directory, no
 * file. Written STATE_WRITE_DELAY_MS after a change (one write for a burst), through a
 * temporary file and a rename; read when the policy starts, before the connections are adopted.
 * A connection is found again by its token and its addresses and ports (a token can be reused
 * by a later connection). GVariant text form, version first:
 *   (version, [(token, local address, remote address, local port, remote port,
 *               accepted count, [(id, address, port)] accepted announcements,
 *               announcements known, [(id, address, port)] signal endpoints announced)]) */
#define STATE_FILE_NAME      "path-manager.state"
#define STATE_VERSION        1
#define STATE_ENTRY_TYPE     "(ussqqua(ysq)ba(ysq))"
#define STATE_TYPE           "(ua" STATE_ENTRY_TYPE ")"
#define STATE_WRITE_DELAY_MS 150
#define STATE_MAX_BYTES      (4 * 1024 * 1024)
#define STATE_MAX_ADDRS      256   /* per list (ids are 8 bits) */

char *
pm_state_path (void)
{
  const char *dir = g_getenv ("MPTCP_GLIB_SERVICE_RUNTIME_DIR");
  g_auto(GStrv) dirs = NULL;

  if (dir == NULL || *dir == '\0')
    dir = g_getenv ("RUNTIME_DIRECTORY");
  if (dir == NULL || *dir == '\0')
    return NULL;
  /* systemd lists several directories with ':' when the unit has several */
  dirs = g_strsplit (dir, ":", 2);
  return g_build_filename (dirs[0], STATE_FILE_NAME, NULL);
}

static char *
inet_text (int family, const MptcpNlInetAddr *addr)
{
  char text[INET6_ADDRSTRLEN] = "";

  if (inet_ntop (family, addr, text, sizeof text) == NULL)
    text[0] = '\0';
  return g_strdup (text);
}

/* an address of the file, normalised (IPv4-mapped IPv6 as IPv4) */
static gboolean
inet_parse (const char *text, int *family, MptcpNlInetAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  if (inet_pton (AF_INET, text, &addr->v4) == 1)
    *family = AF_INET;
  else if (inet_pton (AF_INET6, text, &addr->v6) == 1)
    {
      *family = AF_INET6;
      _mptcp_nl_inet_normalize (family, addr);
    }
  else
    return FALSE;
  return TRUE;
}

static GVariant *
state_addrs (GArray *addrs)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ysq)"));
  for (guint i = 0; i < addrs->len; i++)
    {
      const MptcpNlAddress *a = &g_array_index (addrs, MptcpNlAddress, i);
      g_autofree char *text = inet_text (a->family, &a->addr);

      g_variant_builder_add (&b, "(ysq)", a->id, text, a->port);
    }
  return g_variant_builder_end (&b);
}

void
pm_state_write (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *text = NULL;
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer value;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a" STATE_ENTRY_TYPE));
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Conn *conn = value;
      g_autofree char *local = NULL, *remote = NULL;

      if (!conn->established || conn->taken)
        continue;
      local = inet_text (conn->family, &conn->saddr);
      remote = inet_text (conn->family, &conn->daddr);
      g_variant_builder_add (&b, "(ussqqu@a(ysq)b@a(ysq))", conn->token, local, remote, conn->sport,
                             conn->dport, MAX (conn->n_accepted, conn->kept_accepted),
                             state_addrs (conn->remotes), conn->signals_known,
                             state_addrs (conn->signals));
    }
  state = g_variant_ref_sink (g_variant_new ("(u@a" STATE_ENTRY_TYPE ")", STATE_VERSION,
                                             g_variant_builder_end (&b)));
  text = g_variant_print (state, FALSE);
  if (!g_file_set_contents_full (self->state_path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &error))
    g_warning ("policy: cannot write the state file: %s", error->message);
}

static gboolean
state_write_cb (gpointer user_data)
{
  MgsPmPolicy *self = user_data;

  self->state_write_id = 0;
  pm_state_write (self);
  return G_SOURCE_REMOVE;
}

/* Something the state file holds changed: written soon (not moved by later changes, so that
 * a steady stream of them cannot keep it from being written) */
void
pm_state_changed (MgsPmPolicy *self)
{
  if (self == NULL || self->state_path == NULL || self->state_write_id != 0)
    return;
  self->state_write_id = g_timeout_add (STATE_WRITE_DELAY_MS, state_write_cb, self);
}

/* The file of the previous run: its entries by token in self->kept. One that cannot be read,
 * does not parse, has another version or other types is ignored (and overwritten at the next
 * write). */
void
pm_state_read (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) entries = NULL;
  g_autofree char *text = NULL;
  GStatBuf st;
  gsize len = 0;
  guint32 version = 0;

  self->kept = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_variant_unref);
  if (g_stat (self->state_path, &st) != 0)
    {
      if (errno != ENOENT)
        g_warning ("policy: state file %s: %s", self->state_path, g_strerror (errno));
      return;
    }
  if (st.st_size > STATE_MAX_BYTES)
    {
      g_warning ("policy: state file %s is too large (%" G_GINT64_FORMAT " bytes), ignored",
                 self->state_path, (gint64) st.st_size);
      return;
    }
  if (!g_file_get_contents (self->state_path, &text, &len, &error))
    {
      g_warning ("policy: state file ignored: %s", error->message);
      return;
    }
  if (len > STATE_MAX_BYTES || !g_utf8_validate (text, (gssize) len, NULL))
    {
      g_warning ("policy: state file %s is not text, ignored", self->state_path);
      return;
    }
  /* the version alone first: another version may have other types */
  if (g_str_has_prefix (text, "(") &&
      (version = (guint32) g_ascii_strtoull (text + 1 + strspn (text + 1, " "), NULL, 10)) != 0 &&
      version != STATE_VERSION)
    {
      g_warning ("policy: state file %s has version %u, not %u: ignored", self->state_path,
                 version, STATE_VERSION);
      return;
    }
  state = g_variant_parse (G_VARIANT_TYPE (STATE_TYPE), text, text + len, NULL, &error);
  if (state == NULL)
    {
      g_warning ("policy: state file %s ignored: %s", self->state_path, error->message);
      return;
    }
  g_variant_get_child (state, 0, "u", &version);
  if (version != STATE_VERSION)
    {
      g_warning ("policy: state file %s has version %u, not %u: ignored", self->state_path,
                 version, STATE_VERSION);
      return;
    }
  entries = g_variant_get_child_value (state, 1);
  for (gsize i = 0; i < g_variant_n_children (entries); i++)
    {
      GVariant *entry = g_variant_get_child_value (entries, i);
      guint32 token;

      g_variant_get_child (entry, 0, "u", &token);
      g_hash_table_replace (self->kept, GUINT_TO_POINTER (token), entry);
    }
  g_debug ("policy: state file: %u connections", g_hash_table_size (self->kept));
}

/* a list of the file into addrs: each id once, at most STATE_MAX_ADDRS, valid addresses only */
static void
state_restore_addrs (GVariantIter *iter, GArray *addrs, guint64 *ids)
{
  const char *text;
  guint16 port;
  guint8 id;

  while (g_variant_iter_next (iter, "(y&sq)", &id, &text, &port))
    {
      MptcpNlAddress a = { 0 };
      gboolean seen = FALSE;

      if (addrs->len >= STATE_MAX_ADDRS || !inet_parse (text, &a.family, &a.addr))
        continue;
      for (guint i = 0; i < addrs->len; i++)
        seen |= g_array_index (addrs, MptcpNlAddress, i).id == id;
      if (seen)
        continue;
      a.id = id;
      a.port = port;
      g_array_append_val (addrs, a);
      if (ids != NULL)
        ids[id / 64] |= G_GUINT64_CONSTANT (1) << (id % 64);
    }
}

/* An adopted connection takes what the file kept of it, if it is the same connection */
static void
state_restore (MgsPmPolicy *self, Conn *conn)
{
  g_autoptr(GVariantIter) remotes = NULL, signals = NULL;
  const char *ltext, *rtext;
  guint16 lport, rport;
  guint32 token, accepted;
  gboolean known;
  MptcpNlInetAddr a;
  GVariant *entry;
  int f;

  if (self->kept == NULL ||
      (entry = g_hash_table_lookup (self->kept, GUINT_TO_POINTER (conn->token))) == NULL)
    return;
  g_variant_get (entry, "(u&s&sqqua(ysq)ba(ysq))", &token, &ltext, &rtext, &lport, &rport,
                 &accepted, &remotes, &known, &signals);
  if (lport != conn->sport || rport != conn->dport ||
      !inet_parse (ltext, &f, &a) || f != conn->family || !same_addr (f, &a, &conn->saddr) ||
      !inet_parse (rtext, &f, &a) || f != conn->family || !same_addr (f, &a, &conn->daddr))
    {
      g_debug ("policy: token %08x: the state file's entry is of another connection",
               conn->token);
      return;
    }
  state_restore_addrs (remotes, conn->remotes, NULL);
  conn->kept_accepted = MIN (accepted, G_MAXUINT8);
  conn->signals_known = known;
  state_restore_addrs (signals, conn->signals, conn->announced);
  g_debug ("policy: token %08x: %u announcements and %u of its own kept", conn->token,
           conn->remotes->len, conn->signals->len);
}

static guint32
info_token (const MptcpDiagSocket *s)
{
  guint32 token = 0;

  if (s->info_len >= 16)
    memcpy (&token, s->info + 12, sizeof token);
  return token;
}

static void
diag_addr (const guint8 *raw, int *family, MptcpNlInetAddr *addr)
{
  memset (addr, 0, sizeof *addr);
  memcpy (addr, raw, *family == AF_INET ? 4 : 16);
  _mptcp_nl_inet_normalize (family, addr);
}

/* Linux 6.12 and later list, for a GET_ADDR dump with a token, the local addresses the
 * userspace PM used on that connection, its ANNOUNCEs with the signal flag (measured on 6.18);
 * 6.1 lists nothing. Kernels in between are not measured: they do not ask. */
static gboolean
get_addr_lists_announced (void)
{
  static int lists = -1;

  if (lists < 0)
    lists = pm_kernel_at_least (6, 12);
  return lists;
}

static void
announced_read (MptcpNlReply *reply,
                GError       *error,
                gpointer      user_data)
{
  Req *req = user_data;
  Conn *conn = pm_req_conn (req);

  if (error != NULL)
    g_debug ("policy: token %08x: its addresses not read: %s", req->token, error->message);
  else if (conn != NULL && reply != NULL && !conn->signals_known)
    {
      for (guint i = 0; i < reply->addresses->len; i++)
        {
          MptcpNlAddress a = g_array_index (reply->addresses, MptcpNlAddress, i);

          g_debug ("policy: token %08x: the kernel lists address id %u flags %#x", conn->token,
                   a.id, a.flags);
          if (!(a.flags & MPTCP_PM_ADDR_FLAG_SIGNAL) || a.id == 0 || pm_announced (conn, a.id))
            continue;
          _mptcp_nl_address_normalize (&a);
          conn->announced[a.id / 64] |= G_GUINT64_CONSTANT (1) << (a.id % 64);
          g_array_append_val (conn->signals, a);
        }
      conn->signals_known = TRUE;
      pm_state_changed (pm_the_policy);
      /* the signal endpoints not announced yet (if the table is read; else when it is) */
      pm_apply (pm_the_policy, conn);
    }
  g_clear_error (&error);
  if (reply != NULL)
    _mptcp_nl_reply_free (reply);
  g_free (req);
}

/* An adopted connection the state file does not know: what it announced, from the kernel */
static void
read_announced (MgsPmPolicy *self,
                Conn        *conn)
{
  MptcpNlRequest r = { .cmd = MPTCP_PM_CMD_GET_ADDR, .dump = TRUE };

  if (!get_addr_lists_announced ())
    return;
  r.token = conn->token;
  r.has_token = TRUE;
  _mptcp_netlink_request_direct (self->nl, &r, POLICY_TIMEOUT_MS, announced_read,
                                 pm_req_new (self, conn));
}

/* Restart safety: every established connection of the namespace, with the subflows it has. */
void
pm_adopt_existing (MgsPmPolicy *self)
{
  g_autoptr(GError) error = NULL;
  MptcpSockDiag *diag;
  MptcpDiagDump dump;

  diag = _mptcp_sockdiag_new (&error);
  if (diag == NULL)
    {
      g_warning ("policy: cannot list the namespace's connections: %s", error->message);
      return;
    }
  _mptcp_diag_dump_init (&dump);
  if (!_mptcp_sockdiag_dump_sync (diag, &dump, 5000, NULL, &error))
    g_warning ("policy: cannot list the namespace's connections: %s", error->message);
  else
    {
      for (guint i = 0; i < dump.connections->len; i++)
        {
          const MptcpDiagSocket *s = &g_array_index (dump.connections, MptcpDiagSocket, i);
          guint32 token = info_token (s);
          gboolean server_side = FALSE;
          Conn *conn;

          if (s->state != 1 /* TCP_ESTABLISHED */ || token == 0)
            continue;
          for (guint j = 0; j < dump.connections->len; j++)
            {
              const MptcpDiagSocket *l = &g_array_index (dump.connections, MptcpDiagSocket, j);
              if (l->state == 10 /* TCP_LISTEN */ && l->sport == s->sport)
                server_side = TRUE;
            }
          conn = pm_conn_ensure (self, token);
          conn->family = s->family;
          diag_addr (s->src, &conn->family, &conn->saddr);
          {
            int f = s->family;
            diag_addr (s->dst, &f, &conn->daddr);
          }
          conn->dport = s->dport;
          conn->sport = s->sport;
          conn->server_side = server_side;
          conn->established = TRUE;
          conn->adopted = TRUE;
          state_restore (self, conn);
          /* existing joins count against the limit and are not made twice */
          for (guint k = 0; k < dump.subflows->len; k++)
            {
              const MptcpDiagSocket *sf = &g_array_index (dump.subflows, MptcpDiagSocket, k);
              Pair p = { 0 };
              int f = sf->family;

              if (!sf->ulp_attrs || sf->token_loc != token ||
                  !(sf->sf_flags & MPTCP_SUBFLOW_FLAG_JOIN_LOC) || sf->state != 1)
                continue;
              diag_addr (sf->src, &f, &p.local);
              p.family = f;
              f = sf->family;
              diag_addr (sf->dst, &f, &p.remote);
              p.rport = sf->dport;
              p.lport = sf->sport;
              g_array_append_val (conn->pairs, p);
              conn->n_subflows++;
            }
          conn->taken = self->is_taken != NULL && self->is_taken (token, self->user_data);
          if (!conn->taken && !conn->signals_known)
            read_announced (self, conn);
          if (!conn->taken)
            pm_read_table (self, conn);
        }
      g_debug ("policy: adopted %u connections", g_hash_table_size (self->conns));
    }
  /* the entries of connections that are gone are dropped */
  g_clear_pointer (&self->kept, g_hash_table_unref);
  pm_state_changed (self);
  _mptcp_diag_dump_clear (&dump);
  _mptcp_sockdiag_free (diag);
}

