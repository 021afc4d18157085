/* test-sockdiag.c: MptcpConnectionList over a scripted fake sock_diag kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The list's sock_diag socket is one end of a socketpair(); the test writes the kernel's
 * replies (sockdiag-messages.h) into the other end before it asks for a dump, and reads the
 * requests back to check them. What the real kernel cannot be made to send is tested here:
 * malformed replies, refusals, a degraded kernel that hides the subflows' MPTCP details (as
 * 6.1 and 6.12 do to unprivileged callers), exact diffs.
 */

#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-sockdiag-private.h"
#include "mptcp-connection-list-private.h"
#include "sockdiag-messages.h"

typedef struct
{
  guint position, removed, added;
} Change;

typedef struct
{
  MptcpConnectionList *list;
  int                  kernel;    /* the fake kernel's end */
  guint32              seq;       /* the seq of the list's next request */
  GArray              *changes;
} Fake;

static void
record_change_cb (GListModel *model, guint position, guint removed, guint added,
                  gpointer user_data)
{
  Change c = { position, removed, added };

  g_array_append_val ((GArray *) user_data, c);
}

static void
fake_setup (Fake *f, gconstpointer data)
{
  int sv[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  f->list = _mptcp_connection_list_new_for_fd (sv[0]);
  f->kernel = sv[1];
  f->seq = 1;
  f->changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_signal_connect (f->list, "items-changed", G_CALLBACK (record_change_cb), f->changes);
}

static void
fake_teardown (Fake *f, gconstpointer data)
{
  g_signal_handlers_disconnect_by_data (f->list, f->changes);
  g_assert_finalize_object (f->list);
  if (f->kernel >= 0)
    close (f->kernel);
  g_array_unref (f->changes);
}

static void
send_buf (Fake *f, const guint8 *buf, gsize len)
{
  g_assert_cmpint (send (f->kernel, buf, len, 0), ==, (gssize) len);
}

/* One reply datagram: the sockets, then NLMSG_DONE. */
static void
reply (Fake *f, guint step, const FakeSock *socks, guint n)
{
  g_autofree guint8 *buf = g_malloc0 (1024 * (n + 1));
  gsize off = 0;

  for (guint i = 0; i < n; i++)
    fake_put_socket (buf, &off, f->seq + step, step < 2, &socks[i]);
  fake_put_done (buf, &off, f->seq + step, 0);
  send_buf (f, buf, off);
}

/* The four replies of one dump: conns over AF_INET, nothing over AF_INET6, same for TCP. */
static void
reply_dump (Fake *f, const FakeSock *conns, guint n_conns, const FakeSock *sfs, guint n_sfs)
{
  reply (f, 0, conns, n_conns);
  reply (f, 1, NULL, 0);
  reply (f, 2, sfs, n_sfs);
  reply (f, 3, NULL, 0);
}

/* Reads the requests the list sent for the next n sequence numbers (one per step of a dump:
 * MPTCP v4, MPTCP v6, TCP v4, TCP v6; a skipped TCP step leaves its number unused), checks
 * them, moves seq past them and returns the bit mask of the numbers that had a request. */
static guint64
check_requests_mask (Fake *f, guint n)
{
  guint64 mask = 0;

  for (guint i = 0; i < n; i++)
    {
      guint8 buf[256] __attribute__ ((aligned (8)));
      const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
      const struct inet_diag_req_v2 *req;
      gssize len = recv (f->kernel, buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK);
      gboolean protocol_attr = FALSE;
      const struct nlattr *attr;

      if (len < 0 || nlh->nlmsg_seq != f->seq + i)
        {
          /* only a TCP step is ever skipped */
          g_assert_cmpuint (i % 4, >=, 2);
          continue;
        }
      len = recv (f->kernel, buf, sizeof buf, MSG_DONTWAIT);
      mask |= G_GUINT64_CONSTANT (1) << i;
      g_assert_cmpint (len, >, 0);
      g_assert_true (mnl_nlmsg_ok (nlh, (int) len));
      g_assert_cmpuint (nlh->nlmsg_type, ==, SOCK_DIAG_BY_FAMILY);
      g_assert_cmpuint (nlh->nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_DUMP);
      g_assert_cmpuint (nlh->nlmsg_seq, ==, f->seq + i);
      req = mnl_nlmsg_get_payload (nlh);
      g_assert_cmpuint (req->sdiag_family, ==, i % 2 == 0 ? AF_INET : AF_INET6);
      g_assert_cmpuint (req->idiag_ext & (1 << (INET_DIAG_INFO - 1)), !=, 0);
      g_assert_cmpuint (req->idiag_states & (1 << TCP_LISTEN), ==, 0);
      g_assert_cmpuint (req->idiag_states & (1 << TCP_ESTABLISHED), !=, 0);
      mnl_attr_for_each (attr, nlh, sizeof *req)
        if (mnl_attr_get_type (attr) == INET_DIAG_REQ_PROTOCOL &&
            mnl_attr_get_u32 (attr) == IPPROTO_MPTCP)
          protocol_attr = TRUE;
      g_assert_true (protocol_attr == (i % 4 < 2));
    }
  g_assert_cmpint (recv (f->kernel, (char[16]) { 0 }, 16, MSG_DONTWAIT), ==, -1);
  f->seq += n;
  return mask;
}

/* The fake connections are all AF_INET: a dump asks for no TCP AF_INET6 sockets, and for no
 * TCP sockets at all when it found no connection. */
static void
check_requests (Fake *f, guint n)
{
  guint64 mask = check_requests_mask (f, n);

  for (guint i = 0; i < n; i++)
    if (i % 4 == 3)
      g_assert_false (mask & (G_GUINT64_CONSTANT (1) << i));
}

static MptcpConnectionEntry *
item (Fake *f, guint i)
{
  MptcpConnectionEntry *e = g_list_model_get_item (G_LIST_MODEL (f->list), i);

  g_object_unref (e);   /* the list holds it */
  return e;
}

static MptcpSubflowEntry *
subflow (MptcpConnectionEntry *e, guint i)
{
  MptcpSubflowEntry *sf = g_list_model_get_item (mptcp_connection_entry_get_subflows (e), i);

  g_object_unref (sf);
  return sf;
}

static void
assert_info_token (MptcpConnectionEntry *e, guint32 token)
{
  g_autoptr(MptcpConnectionInfo) info = mptcp_connection_entry_get_info (e);

  g_assert_cmphex (mptcp_connection_info_get_token (info), ==, token);
  g_assert_cmpuint (mptcp_connection_info_get_size (info), ==, 96);
}

static void
refresh_ok (Fake *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_no_error (error);
  check_requests (f, 4);
}

static void
count_refreshed_cb (MptcpConnectionList *list, guint *n_items_seen)
{
  /* emitted after the dump was applied: the model already has its new items */
  n_items_seen[0]++;
  n_items_seen[1] = g_list_model_get_n_items (G_LIST_MODEL (list));
}

/* ::refreshed after each applied dump, also one that changed nothing */
static void
test_refreshed (Fake *f, gconstpointer data)
{
  guint seen[2] = { 0, 0 };

  g_signal_connect (f->list, "refreshed", G_CALLBACK (count_refreshed_cb), seen);
  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_cmpuint (seen[0], ==, 1);
  g_assert_cmpuint (seen[1], ==, 2);
  g_assert_cmpuint (f->changes->len, ==, 1);

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_cmpuint (seen[0], ==, 2);
  g_assert_cmpuint (f->changes->len, ==, 1);   /* nothing changed, still refreshed */

  reply_dump (f, fake_conns, 0, fake_subflows, 0);
  refresh_ok (f);
  g_assert_cmpuint (seen[0], ==, 3);
  g_assert_cmpuint (seen[1], ==, 0);
  g_signal_handlers_disconnect_by_func (f->list, count_refreshed_cb, seen);
}

static void
test_list (Fake *f, gconstpointer data)
{
  MptcpConnectionEntry *e0, *e1;
  MptcpSubflowEntry *sf;
  g_autofree char *addr = NULL;
  g_autoptr(MptcpConnectionInfo) info = NULL;

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_cmpuint (f->changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->changes, Change, 0).added, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);
  g_assert_true (mptcp_connection_list_get_subflows_visible (f->list));

  e0 = item (f, 0);
  e1 = item (f, 1);
  g_assert_cmphex (mptcp_connection_entry_get_token (e0), ==, 0x11111111);
  g_assert_cmphex (mptcp_connection_entry_get_token (e1), ==, 0x22222222);
  g_assert_cmpuint (mptcp_connection_entry_get_uid (e1), ==, 65534);
  g_assert_cmpuint (mptcp_connection_entry_get_inode (e0), ==, 9001);
  g_assert_cmpuint (mptcp_connection_entry_get_state (e0), ==, MPTCP_TCP_STATE_ESTABLISHED);
  info = mptcp_connection_entry_get_info (e0);
  g_assert_cmpuint (mptcp_connection_info_get_n_subflows (info), ==, 1);
  g_assert_cmphex (mptcp_connection_info_get_token (info), ==, 0x11111111);
  addr = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (mptcp_connection_entry_get_remote_address (e0)));
  g_assert_cmpstr (addr, ==, "192.0.2.2:5001");
  g_assert_true (mptcp_connection_list_find_token (f->list, 0x22222222) == e1);
  g_assert_null (mptcp_connection_list_find_token (f->list, 0x33333333));

  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e0)), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (e1)), ==, 1);
  sf = subflow (e0, 0);
  g_assert_false (mptcp_subflow_entry_get_join (sf));
  g_assert_false (mptcp_subflow_entry_get_backup (sf));
  sf = subflow (e0, 1);
  g_assert_true (mptcp_subflow_entry_get_join (sf));
  g_assert_true (mptcp_subflow_entry_get_backup (sf));
  g_assert_true (mptcp_subflow_entry_get_peer_backup (sf));
  g_assert_cmpuint (mptcp_subflow_entry_get_local_id (sf), ==, 2);
  g_assert_cmpuint (mptcp_subflow_entry_get_remote_id (sf), ==, 1);
  g_assert_cmphex (mptcp_subflow_entry_get_remote_token (sf), ==, 0xaaaa0000);
  {
    g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_entry_get_stats (sf);

    g_assert_cmpuint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
    /* the field read in place agrees with the snapshot */
    g_assert_cmpuint (mptcp_subflow_entry_get_stat (sf, MPTCP_SUBFLOW_STATS_FIELD_STATE), ==,
                      MPTCP_TCP_STATE_ESTABLISHED);
    g_assert_cmpuint (mptcp_subflow_entry_get_stat (sf, MPTCP_SUBFLOW_STATS_FIELD_BYTES_ACKED), ==,
                      mptcp_subflow_stats_get_bytes_acked (stats));
  }
}

static void
on_notify_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* the diff: the same objects stay, exactly the changes are emitted, nothing for no change */
static void
test_diff (Fake *f, gconstpointer data)
{
  g_autoptr(GArray) sf_changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(MptcpConnectionEntry) gone = NULL;
  g_autoptr(MptcpSubflowEntry) gone_sf = NULL;
  g_autoptr(MptcpConnectionEntry) e0 = NULL;
  FakeSock conns[2] = { fake_conns[0], fake_conns[1] };
  FakeSock sfs[4] = { fake_subflows[0], fake_subflows[1], fake_subflows[2], fake_subflows[3] };
  guint notes = 0, peer_notes = 0;

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_array_set_size (f->changes, 0);
  e0 = g_object_ref (item (f, 0));
  gone = g_object_ref (item (f, 1));
  gone_sf = g_object_ref (subflow (e0, 1));
  g_signal_connect (mptcp_connection_entry_get_subflows (e0), "items-changed",
                    G_CALLBACK (record_change_cb), sf_changes);
  g_signal_connect (e0, "notify", G_CALLBACK (on_notify_cb), &notes);
  g_signal_connect (gone_sf, "notify::peer-backup", G_CALLBACK (on_notify_cb), &peer_notes);

  /* unchanged: nothing */
  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_cmpuint (f->changes->len, ==, 0);
  g_assert_cmpuint (sf_changes->len, ==, 0);
  g_assert_cmpuint (notes, ==, 0);

  /* the peer's backup flag drops: one notify */
  sfs[1].sf_flags &= ~MPTCP_SUBFLOW_FLAG_BKUP_REM;
  reply_dump (f, conns, 2, sfs, 4);
  refresh_ok (f);
  g_assert_cmpuint (peer_notes, ==, 1);
  g_assert_false (mptcp_subflow_entry_get_peer_backup (gone_sf));
  g_assert_true (mptcp_subflow_entry_get_backup (gone_sf));
  g_assert_cmpuint (f->changes->len, ==, 0);

  /* the second connection and the join go, a third connection comes */
  conns[1].cookie = 103;
  conns[1].token = 0x33333333;
  conns[1].sport = 40004;
  sfs[1] = sfs[2];
  sfs[1].cookie = 205;
  sfs[1].token_loc = 0x33333333;
  sfs[1].sport = 40004;
  reply_dump (f, conns, 2, sfs, 2);
  refresh_ok (f);
  g_assert_cmpuint (f->changes->len, ==, 2);
  g_assert_cmpuint (g_array_index (f->changes, Change, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (f->changes, Change, 0).removed, ==, 1);
  g_assert_cmpuint (g_array_index (f->changes, Change, 0).added, ==, 0);
  g_assert_cmpuint (g_array_index (f->changes, Change, 1).position, ==, 1);
  g_assert_cmpuint (g_array_index (f->changes, Change, 1).removed, ==, 0);
  g_assert_cmpuint (g_array_index (f->changes, Change, 1).added, ==, 1);
  g_assert_cmpuint (sf_changes->len, ==, 1);
  g_assert_cmpuint (g_array_index (sf_changes, Change, 0).position, ==, 1);
  g_assert_cmpuint (g_array_index (sf_changes, Change, 0).removed, ==, 1);
  g_assert_true (item (f, 0) == e0);
  g_assert_cmphex (mptcp_connection_entry_get_token (item (f, 1)), ==, 0x33333333);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 1))), ==, 1);
  g_assert_cmpuint (mptcp_connection_entry_get_state (gone), ==, MPTCP_TCP_STATE_CLOSE);
  assert_info_token (gone, 0x22222222);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (gone)), ==, 0);
  g_assert_cmpuint (mptcp_subflow_entry_get_state (gone_sf), ==, MPTCP_TCP_STATE_CLOSE);
  g_assert_null (mptcp_connection_list_find_token (f->list, 0x22222222));
  g_assert_cmpuint (notes, ==, 0);

  /* everything goes */
  reply_dump (f, NULL, 0, NULL, 0);
  refresh_ok (f);
  g_assert_cmpuint (f->changes->len, ==, 3);
  g_assert_cmpuint (g_array_index (f->changes, Change, 2).position, ==, 0);
  g_assert_cmpuint (g_array_index (f->changes, Change, 2).removed, ==, 2);
  g_assert_cmpuint (mptcp_connection_entry_get_state (e0), ==, MPTCP_TCP_STATE_CLOSE);
  /* the counters of entries that left stay readable, after more dumps too */
  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  reply_dump (f, NULL, 0, NULL, 0);
  refresh_ok (f);
  assert_info_token (e0, 0x11111111);
  assert_info_token (gone, 0x22222222);
  {
    g_autoptr(MptcpSubflowStats) stats = mptcp_subflow_entry_get_stats (gone_sf);

    g_assert_cmpuint (mptcp_subflow_stats_get_state (stats), ==, MPTCP_TCP_STATE_ESTABLISHED);
    /* a subflow that left reads its own copy in place too */
    g_assert_cmpuint (mptcp_subflow_entry_get_stat (gone_sf, MPTCP_SUBFLOW_STATS_FIELD_STATE), ==,
                      MPTCP_TCP_STATE_ESTABLISHED);
  }
  g_signal_handlers_disconnect_by_data (e0, &notes);
}

/* 6.1 / 6.12 without CAP_NET_ADMIN: the TCP sockets of the connections come without ULP info */
static void
test_degraded (Fake *f, gconstpointer data)
{
  FakeSock sfs[4] = { fake_subflows[0], fake_subflows[1], fake_subflows[2], fake_subflows[3] };
  g_autoptr(GError) error = NULL;
  guint notes = 0;

  for (guint i = 0; i < 4; i++)
    sfs[i].ulp = sfs[i].ulp_attrs = FALSE;
  g_signal_connect (f->list, "notify::subflows-visible", G_CALLBACK (on_notify_cb), &notes);
  reply_dump (f, fake_conns, 2, sfs, 4);
  refresh_ok (f);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);
  g_assert_false (mptcp_connection_list_get_subflows_visible (f->list));
  g_assert_cmpuint (notes, ==, 1);
  g_assert_false (mptcp_connection_list_check_subflows (f->list, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 0))), ==, 0);

  /* the details come back (the caller gained the privilege, say) */
  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_true (mptcp_connection_list_get_subflows_visible (f->list));
  g_assert_true (mptcp_connection_list_check_subflows (f->list, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (notes, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 0))), ==, 2);

  /* a ULP name without the MPTCP details: hidden as well, and the subflows leave */
  for (guint i = 0; i < 4; i++)
    {
      sfs[i] = fake_subflows[i];
      sfs[i].ulp_attrs = FALSE;
    }
  reply_dump (f, fake_conns, 2, sfs, 4);
  refresh_ok (f);
  g_assert_false (mptcp_connection_list_get_subflows_visible (f->list));
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 0))), ==, 0);
  g_signal_handlers_disconnect_by_data (f->list, &notes);
}

typedef enum
{
  BAD_TRUNCATED,
  BAD_SHORT_MSG,
  BAD_FAMILY,
  BAD_ERROR,
  BAD_DONE_STATUS,
  BAD_ULP_U32,
  BAD_ULP_NEST,
  BAD_ERROR_RANGE,
  BAD_TINY,
} Bad;

static void
test_malformed (Fake *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 buf[4096] __attribute__ ((aligned (8)));
  gsize off = 0;
  guint step = 0;

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_array_set_size (f->changes, 0);

  for (Bad bad = BAD_TRUNCATED; bad <= BAD_TINY; bad++)
    {
      struct nlmsghdr *nlh;
      GQuark domain = G_IO_ERROR;
      int code = G_IO_ERROR_INVALID_DATA;

      memset (buf, 0, sizeof buf);
      off = 0;
      step = 0;
      switch (bad)
        {
        case BAD_TRUNCATED:
          fake_put_socket (buf, &off, f->seq, TRUE, &fake_conns[0]);
          off -= 20;
          break;
        case BAD_SHORT_MSG:
          nlh = mnl_nlmsg_put_header (buf);
          nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
          nlh->nlmsg_seq = f->seq;
          mnl_nlmsg_put_extra_header (nlh, 20);
          off = nlh->nlmsg_len;
          break;
        case BAD_FAMILY:
          fake_put_socket (buf, &off, f->seq, TRUE, &fake_conns[0]);
          ((struct inet_diag_msg *) mnl_nlmsg_get_payload ((struct nlmsghdr *) buf))->idiag_family = AF_UNIX;
          break;
        case BAD_ERROR:
          fake_put_error (buf, &off, f->seq, -EPERM);
          code = G_IO_ERROR_PERMISSION_DENIED;
          break;
        case BAD_DONE_STATUS:
          fake_put_done (buf, &off, f->seq, -EACCES);
          code = G_IO_ERROR_PERMISSION_DENIED;
          break;
        case BAD_ULP_U32:
        case BAD_ULP_NEST:
          {
            /* a good MPTCP part, then a TCP reply whose ULP attributes are cut */
            FakeSock s = fake_subflows[0];
            guint8 *p;

            reply (f, 0, fake_conns, 2);
            reply (f, 1, NULL, 0);
            step = 2;
            fake_put_socket (buf, &off, f->seq + 2, FALSE, &s);
            /* find the ULP nest and break it */
            nlh = (struct nlmsghdr *) buf;
            {
              struct nlattr *attr;

              mnl_attr_for_each (attr, nlh, sizeof (struct inet_diag_msg))
                if (mnl_attr_get_type (attr) == INET_DIAG_ULP_INFO)
                  break;
              g_assert_nonnull (attr);
              if (bad == BAD_ULP_NEST)
                attr->nla_len = 3;  /* shorter than an attribute header */
              else
                {
                  /* the TOKEN_REM attribute (first in the MPTCP nest) says 2 bytes */
                  p = (guint8 *) mnl_attr_get_payload (attr);
                  for (struct nlattr *in = (struct nlattr *) p;
                       (guint8 *) in < (guint8 *) attr + attr->nla_len;
                       in = mnl_attr_next (in))
                    if (mnl_attr_get_type (in) == INET_ULP_INFO_MPTCP)
                      {
                        ((struct nlattr *) mnl_attr_get_payload (in))->nla_len = 6;
                        break;
                      }
                }
            }
            fake_put_done (buf, &off, f->seq + 2, 0);
            break;
          }
        case BAD_ERROR_RANGE:
          fake_put_error (buf, &off, f->seq, 5);
          break;
        case BAD_TINY:
          buf[0] = 7;
          off = 7;
          break;
        }
      g_test_message ("malformed reply %d", bad);
      send_buf (f, buf, off);
      g_assert_false (mptcp_connection_list_refresh (f->list, NULL, &error));
      g_assert_error (error, domain, code);
      g_clear_error (&error);
      check_requests (f, step + 1);
      /* the list did not move, and its counters are those of the last complete dump */
      assert_info_token (item (f, 0), 0x11111111);
      assert_info_token (item (f, 1), 0x22222222);
      g_assert_cmpuint (f->changes->len, ==, 0);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);
      g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 0))), ==, 2);
    }

  /* and a good dump still works after all that */
  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  refresh_ok (f);
  g_assert_cmpuint (f->changes->len, ==, 0);
}

static void
async_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **out = user_data;

  if (mptcp_connection_list_refresh_finish (MPTCP_CONNECTION_LIST (source), result, out))
    *out = g_error_new_literal (G_IO_ERROR, 0, "ok");
}

static GError *
refresh_async_wait (Fake *f)
{
  GError *result = NULL;
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  mptcp_connection_list_refresh_async (f->list, NULL, async_cb, &result);
  while (result == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (result);
  return result;
}

static void
test_async (Fake *f, gconstpointer data)
{
  guint8 buf[256] __attribute__ ((aligned (8)));
  gsize off = 0;
  GError *result;

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  result = refresh_async_wait (f);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);
  check_requests (f, 4);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);

  /* a refusal through the async path */
  fake_put_error (buf, &off, f->seq, -EACCES);
  send_buf (f, buf, off);
  result = refresh_async_wait (f);
  g_assert_error (result, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&result);
  check_requests (f, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);

  /* stale replies of an old seq are skipped */
  off = 0;
  fake_put_socket (buf, &off, f->seq - 1, TRUE, &fake_conns[0]);
  send_buf (f, buf, off);
  reply_dump (f, fake_conns, 1, fake_subflows, 2);
  result = refresh_async_wait (f);
  g_assert_error (result, G_IO_ERROR, 0);
  g_clear_error (&result);
  check_requests (f, 4);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 1);

  /* a sync refresh while an async dump runs and another waits: all three answered, in order */
  {
    GError *first = NULL, *second = NULL;
    g_autoptr(GError) error = NULL;

    mptcp_connection_list_refresh_async (f->list, NULL, async_cb, &first);
    mptcp_connection_list_refresh_async (f->list, NULL, async_cb, &second);
    reply_dump (f, fake_conns, 1, fake_subflows, 2);
    f->seq += 4;
    reply_dump (f, fake_conns, 2, fake_subflows, 4);
    f->seq += 4;
    reply_dump (f, fake_conns, 2, fake_subflows, 3);
    f->seq -= 8;
    g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
    g_assert_no_error (error);
    check_requests (f, 12);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);
    for (gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
         (first == NULL || second == NULL) && g_get_monotonic_time () < end;)
      g_main_context_iteration (NULL, FALSE);
    g_assert_nonnull (first);
    g_assert_nonnull (second);
    g_assert_error (first, G_IO_ERROR, 0);
    g_assert_error (second, G_IO_ERROR, 0);
    g_clear_error (&first);
    g_clear_error (&second);
  }
}

/* The TCP dump of a family is asked for only when the MPTCP dumps found a connection that can
 * have subflows of it (AF_INET: any connection; AF_INET6: an AF_INET6 one). */
static void
test_tcp_steps (Fake *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 buf[2048] __attribute__ ((aligned (8)));
  gsize off = 0;

  /* no connection: the two MPTCP requests only */
  reply (f, 0, NULL, 0);
  reply (f, 1, NULL, 0);
  g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmphex (check_requests_mask (f, 4), ==, 0x3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 0);

  /* AF_INET connections: TCP over AF_INET too, and their subflows are there */
  reply (f, 0, fake_conns, 2);
  reply (f, 1, NULL, 0);
  reply (f, 2, fake_subflows, 4);
  g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmphex (check_requests_mask (f, 4), ==, 0x7);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (mptcp_connection_entry_get_subflows (item (f, 0))), >, 0);

  /* an AF_INET6 connection: all four */
  reply (f, 0, NULL, 0);
  fake_put_socket (buf, &off, f->seq + 1, TRUE, &fake_conns[0]);
  ((struct inet_diag_msg *) mnl_nlmsg_get_payload ((struct nlmsghdr *) buf))->idiag_family = AF_INET6;
  fake_put_done (buf, &off, f->seq + 1, 0);
  send_buf (f, buf, off);
  reply (f, 2, NULL, 0);
  reply (f, 3, NULL, 0);
  g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmphex (check_requests_mask (f, 4), ==, 0xf);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 1);
}

typedef struct
{
  Fake   *f;
  GError *sync_error;
  GError *async_result;
  guint   calls;
} Reentry;

static void
reenter_cb (GListModel *model, guint position, guint removed, guint added, gpointer user_data)
{
  Reentry *r = user_data;

  if (r->calls++ > 0)
    return;
  g_assert_false (mptcp_connection_list_refresh (r->f->list, NULL, &r->sync_error));
  mptcp_connection_list_refresh_async (r->f->list, NULL, async_cb, &r->async_result);
}

/* a handler of the list's signals calls it back: sync refused (BUSY), async done next */
static void
test_reentry (Fake *f, gconstpointer data)
{
  Reentry r = { f, NULL, NULL, 0 };
  gint64 end;

  g_signal_connect (f->list, "items-changed", G_CALLBACK (reenter_cb), &r);
  g_autoptr(GError) error = NULL;
  guint8 buf[256];
  guint left = 0;

  reply_dump (f, fake_conns, 2, fake_subflows, 4);
  g_assert_true (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_no_error (error);
  g_assert_error (r.sync_error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&r.sync_error);
  /* the async one started once the first dump was applied: its first request is there */
  check_requests (f, 5);
  f->seq--;
  g_assert_null (r.async_result);
  reply_dump (f, fake_conns, 1, fake_subflows, 2);
  end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (r.async_result == NULL && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_error (r.async_result, G_IO_ERROR, 0);
  g_clear_error (&r.async_result);
  while (recv (f->kernel, buf, sizeof buf, MSG_DONTWAIT) > 0)
    left++;
  /* its MPTCP AF_INET6 and TCP AF_INET requests (no AF_INET6 connection: no TCP AF_INET6) */
  g_assert_cmpuint (left, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->list)), ==, 1);
  g_signal_handlers_disconnect_by_data (f->list, &r);
}

static void
test_peer_gone (Fake *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  close (f->kernel);
  f->kernel = -1;
  g_assert_false (mptcp_connection_list_refresh (f->list, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
}

/* the parser alone, on a datagram of two sockets and a DONE */
static void
test_parser (void)
{
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
  g_autoptr(GError) error = NULL;
  guint8 buf[4096] __attribute__ ((aligned (8)));
  gsize off = 0;
  gboolean done;

  fake_put_socket (buf, &off, 9, FALSE, &fake_subflows[1]);
  fake_put_socket (buf, &off, 9, FALSE, &fake_subflows[3]);
  fake_put_socket (buf, &off, 8, FALSE, &fake_subflows[0]);
  fake_put_done (buf, &off, 9, 0);
  g_assert_true (_mptcp_sockdiag_parse_datagram (buf, off, 9, FALSE, FALSE, out, &done, &error));
  g_assert_no_error (error);
  g_assert_true (done);
  /* the plain TCP socket dropped (keep_tcp FALSE), the other seq skipped */
  g_assert_cmpuint (out->len, ==, 1);
  g_assert_cmpuint (g_array_index (out, MptcpDiagSocket, 0).cookie, ==, 202);
  g_assert_cmpuint (g_array_index (out, MptcpDiagSocket, 0).id_loc, ==, 2);
  g_assert_cmpuint (g_array_index (out, MptcpDiagSocket, 0).sport, ==, 40101);
  g_assert_true (g_array_index (out, MptcpDiagSocket, 0).ulp_attrs);
  g_assert_true (_mptcp_diag_socket_same_tuple (&g_array_index (out, MptcpDiagSocket, 0),
                                                &g_array_index (out, MptcpDiagSocket, 0)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sockdiag/parser", test_parser);
  g_test_add ("/sockdiag/fake/list", Fake, NULL, fake_setup, test_list, fake_teardown);
  g_test_add ("/sockdiag/fake/diff", Fake, NULL, fake_setup, test_diff, fake_teardown);
  g_test_add ("/sockdiag/fake/refreshed", Fake, NULL, fake_setup, test_refreshed, fake_teardown);
  g_test_add ("/sockdiag/fake/degraded", Fake, NULL, fake_setup, test_degraded, fake_teardown);
  g_test_add ("/sockdiag/fake/malformed", Fake, NULL, fake_setup, test_malformed, fake_teardown);
  g_test_add ("/sockdiag/fake/async", Fake, NULL, fake_setup, test_async, fake_teardown);
  g_test_add ("/sockdiag/fake/tcp-steps", Fake, NULL, fake_setup, test_tcp_steps, fake_teardown);
  g_test_add ("/sockdiag/fake/reentry", Fake, NULL, fake_setup, test_reentry, fake_teardown);
  g_test_add ("/sockdiag/fake/peer-gone", Fake, NULL, fake_setup, test_peer_gone, fake_teardown);
  return g_test_run ();
}
