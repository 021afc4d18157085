/* test-path-manager.c: MptcpPathManager against the real kernel, cross-checked with `ip mptcp`
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs in the testbed: the test's own network namespace is the client side (path 1 on c1, path 2
 * on c2), the server namespace runs an in-kernel-PM MPTCP sink. Every state change made through
 * the library is read back with `ip -j mptcp endpoint show` / `ip mptcp limits show`, and every
 * change made with `ip` is read back through the library.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/mptcp.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-endpoint-private.h"
#include "testbed.h"
#include "read-common.h"

#define PM_SYSCTL "/proc/sys/net/mptcp/path_manager"
#define PM_TYPE_SYSCTL "/proc/sys/net/mptcp/pm_type"

/* ---- running ip ---------------------------------------------------------------------------- */

static char *
run_ip (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  if (!testbed_run_in_client (argv, &out, &error))
    g_error ("%s failed: %s", argv[1], error->message);
  return out;
}

#define IP(...) \
  G_STMT_START { \
    const char * const ip_argv_[] = { "ip", __VA_ARGS__, NULL }; \
    g_free (run_ip (ip_argv_)); \
  } G_STMT_END

/* ---- a minimal reader for the flat JSON `ip -j mptcp endpoint show` prints ------------------- */

typedef struct
{
  const char *p;
  gboolean    ok;
} Json;

static void
json_ws (Json *j)
{
  while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
    j->p++;
}

static gboolean
json_expect (Json *j,
             char  c)
{
  json_ws (j);
  if (*j->p != c)
    return j->ok = FALSE;
  j->p++;
  return TRUE;
}

static char *
json_scalar (Json *j)
{
  GString *s = g_string_new (NULL);

  json_ws (j);
  if (*j->p == '"')
    {
      j->p++;
      while (*j->p && *j->p != '"')
        {
          if (*j->p == '\\' && j->p[1])
            j->p++;
          g_string_append_c (s, *j->p++);
        }
      if (*j->p != '"')
        j->ok = FALSE;
      else
        j->p++;
    }
  else
    {
      while (*j->p && strchr (",}] \n", *j->p) == NULL)
        g_string_append_c (s, *j->p++);
      if (s->len == 0)
        j->ok = FALSE;
    }

  return g_string_free (s, FALSE);
}

/* [{"k":v,…},…] with scalar values → array of GHashTable (key → text of the value) */
static GPtrArray *
json_parse_objects (const char *text)
{
  GPtrArray *objects = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);
  Json j = { text, TRUE };

  if (!json_expect (&j, '['))
    goto out;
  json_ws (&j);
  if (*j.p == ']')
    goto out;

  do
    {
      GHashTable *object = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

      g_ptr_array_add (objects, object);
      if (!json_expect (&j, '{'))
        goto out;
      json_ws (&j);
      if (*j.p == '}')
        {
          j.p++;
          continue;
        }
      do
        {
          char *key = json_scalar (&j);
          char *value;

          json_expect (&j, ':');
          value = json_scalar (&j);
          g_hash_table_replace (object, key, value);
          json_ws (&j);
        }
      while (j.ok && *j.p == ',' && j.p++);
      json_expect (&j, '}');
      json_ws (&j);
    }
  while (j.ok && *j.p == ',' && j.p++);
  json_expect (&j, ']');

out:
  g_assert_true (j.ok);
  return objects;
}

/* ---- both views of the endpoint table, in one comparable text ------------------------------- */

static const char * const flag_names[] = { "signal", "subflow", "backup", "fullmesh", "implicit",
                                           "laminar" };

static char *
describe (guint        id,
          const char  *address,
          guint        port,
          guint32      flags,
          const char  *dev)
{
  GString *s = g_string_new (NULL);
  gsize i;

  g_string_append_printf (s, "%u %s", id, address);
  if (port != 0)
    g_string_append_printf (s, " port %u", port);
  for (i = 0; i < G_N_ELEMENTS (flag_names); i++)
    if (flags & (1u << i))
      g_string_append_printf (s, " %s", flag_names[i]);
  if (flags >> G_N_ELEMENTS (flag_names))
    g_string_append_printf (s, " raw 0x%x", flags >> G_N_ELEMENTS (flag_names));
  if (dev != NULL)
    g_string_append_printf (s, " dev %s", dev);

  return g_string_free (s, FALSE);
}

static int
cmp_lines (gconstpointer a,
           gconstpointer b)
{
  guint ia = (guint) g_ascii_strtoull (*(char **) a, NULL, 10);
  guint ib = (guint) g_ascii_strtoull (*(char **) b, NULL, 10);

  return ia < ib ? -1 : ia > ib;
}

static char *
join_sorted (GPtrArray *lines)
{
  g_ptr_array_sort (lines, cmp_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

/* What `ip` sees */
static char *
ip_state (void)
{
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char * const argv[] = { "ip", "-j", "mptcp", "endpoint", "show", NULL };
  guint i;

  out = run_ip (argv);
  objects = json_parse_objects (out);
  for (i = 0; i < objects->len; i++)
    {
      GHashTable *o = objects->pdata[i];
      const char *port = g_hash_table_lookup (o, "port");
      const char *raw = g_hash_table_lookup (o, "rawflags");
      guint32 flags = 0;
      gsize f;

      for (f = 0; f < 4; f++)
        if (g_strcmp0 (g_hash_table_lookup (o, flag_names[f]), "true") == 0)
          flags |= 1u << f;
      if (raw != NULL)
        flags |= (guint32) g_ascii_strtoull (raw, NULL, 16);

      g_ptr_array_add (lines, describe ((guint) g_ascii_strtoull (g_hash_table_lookup (o, "id"),
                                                                  NULL, 10),
                                        g_hash_table_lookup (o, "address"),
                                        port ? (guint) g_ascii_strtoull (port, NULL, 10) : 0,
                                        flags, g_hash_table_lookup (o, "dev")));
    }

  return join_sorted (lines);
}

static char *
endpoint_describe (MptcpEndpoint *endpoint)
{
  g_autofree char *address = g_inet_address_to_string (mptcp_endpoint_get_address (endpoint));

  return describe (mptcp_endpoint_get_id (endpoint), address, mptcp_endpoint_get_port (endpoint),
                   mptcp_endpoint_get_flags (endpoint), mptcp_endpoint_get_ifname (endpoint));
}

/* The list keeps a reference to its items: a borrowed endpoint */
static MptcpEndpoint *
nth_endpoint (GListModel *list,
              guint       i)
{
  MptcpEndpoint *endpoint = g_list_model_get_item (list, i);

  g_assert_true (MPTCP_IS_ENDPOINT (endpoint));
  g_object_unref (endpoint);
  return endpoint;
}

/* What the library sees */
static char *
lib_state (MptcpPathManager *pm)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GListModel) endpoints = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  guint i;

  endpoints = mptcp_path_manager_list_endpoints (pm, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (endpoints);
  g_assert_true (g_list_model_get_item_type (endpoints) == MPTCP_TYPE_ENDPOINT);
  for (i = 0; i < g_list_model_get_n_items (endpoints); i++)
    g_ptr_array_add (lines, endpoint_describe (nth_endpoint (endpoints, i)));

  return join_sorted (lines);
}

static void
assert_same_state (MptcpPathManager *pm)
{
  g_autofree char *ip = ip_state ();
  g_autofree char *lib = lib_state (pm);

  g_assert_cmpstr (lib, ==, ip);
}

static void
ip_limits (guint *subflows,
           guint *accepted)
{
  const char * const argv[] = { "ip", "mptcp", "limits", "show", NULL };
  g_autofree char *out = run_ip (argv);
  g_auto(GStrv) words = g_strsplit_set (g_strstrip (out), " \n", -1);
  gboolean got_s = FALSE, got_a = FALSE;
  guint i;

  for (i = 0; words[i] && words[i + 1]; i++)
    {
      if (g_str_equal (words[i], "subflows"))
        {
          *subflows = (guint) g_ascii_strtoull (words[i + 1], NULL, 10);
          got_s = TRUE;
        }
      else if (g_str_equal (words[i], "add_addr_accepted"))
        {
          *accepted = (guint) g_ascii_strtoull (words[i + 1], NULL, 10);
          got_a = TRUE;
        }
    }
  g_assert_true (got_s && got_a);
}

static MptcpPathManager *
pm_new (void)
{
  g_autoptr(GError) error = NULL;
  MptcpPathManager *pm = mptcp_path_manager_new (NULL, &error);

  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_PATH_MANAGER (pm));
  return pm;
}

static GInetAddress *
inet (const char *text)
{
  GInetAddress *address = g_inet_address_new_from_string (text);

  g_assert_nonnull (address);
  return address;
}

/* The endpoint a caller asks for. Values the properties refuse (unknown flag bits, an id above
 * 255) can still come from the kernel's own endpoints: those are built as the library does. */
static MptcpEndpoint *
wanted (GInetAddress       *address,
        guint16             port,
        int                 ifindex,
        MptcpEndpointFlags  flags,
        guint               id)
{
  if ((flags & ~0x3f) != 0 || id > 255)
    return _mptcp_endpoint_new (id, address, port, ifindex, NULL, flags);
  if (port == 0 && ifindex == 0 && flags == 0 && id == 0)
    return mptcp_endpoint_new (address);
  return g_object_new (MPTCP_TYPE_ENDPOINT,
                       "address", address,
                       "port", (guint) port,
                       "ifindex", ifindex,
                       "flags", flags,
                       "id", id,
                       NULL);
}

static MptcpEndpoint *
add_ok (MptcpPathManager   *pm,
        const char         *address,
        guint16             port,
        int                 ifindex,
        MptcpEndpointFlags  flags,
        guint               id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) inet_address = inet (address);
  g_autoptr(MptcpEndpoint) request = wanted (inet_address, port, ifindex, flags, id);
  MptcpEndpoint *endpoint;

  endpoint = mptcp_path_manager_add_endpoint (pm, request, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_ENDPOINT (endpoint));
  /* the request is not changed; the result is what the kernel stored */
  g_assert_true (endpoint != request);
  g_assert_cmpuint (mptcp_endpoint_get_id (request), ==, id);
  g_assert_true (g_inet_address_equal (mptcp_endpoint_get_address (endpoint), inet_address));
  g_assert_cmpuint (mptcp_endpoint_get_port (endpoint), ==, port);
  g_assert_cmpint (mptcp_endpoint_get_ifindex (endpoint), ==, ifindex);
  g_assert_cmpuint (mptcp_endpoint_get_flags (endpoint), ==, flags);
  if (id != 0)
    g_assert_cmpuint (mptcp_endpoint_get_id (endpoint), ==, id);
  return endpoint;
}

static void
flush (MptcpPathManager *pm)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (mptcp_path_manager_flush_endpoints (pm, NULL, &error));
  g_assert_no_error (error);
}

/* ---- tests --------------------------------------------------------------------------------- */

static void
test_new (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpPathManager) pm2 = pm_new ();

  g_assert_true (pm != pm2);
  g_assert_true (G_IS_INITABLE (pm));
}

static void
test_endpoint_add_list (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpEndpoint) e1 = NULL;
  g_autoptr(MptcpEndpoint) e2 = NULL;
  g_autoptr(MptcpEndpoint) e3 = NULL;
  g_autoptr(MptcpEndpoint) e4 = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *ip = NULL;
  g_autoptr(GListModel) list = NULL;
  int c2 = (int) if_nametoindex ("c2");
  guint id = 0, port = 0;
  int ifindex = -1;
  char *ifname = NULL;
  MptcpEndpointFlags flags = 0;
  GInetAddress *address = NULL;

  g_assert_cmpint (c2, >, 0);
  flush (pm);
  assert_same_state (pm);

  /* library writes, ip reads: kernel-picked id, device */
  e1 = add_ok (pm, TESTBED_CLIENT2_V4, 0, c2, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);
  g_assert_cmpuint (mptcp_endpoint_get_id (e1), >=, 1);
  g_assert_cmpint (mptcp_endpoint_get_ifindex (e1), ==, c2);
  g_assert_cmpstr (mptcp_endpoint_get_ifname (e1), ==, "c2");
  g_assert_cmpuint (mptcp_endpoint_get_port (e1), ==, 0);
  g_assert_cmpint (mptcp_endpoint_get_flags (e1), ==, MPTCP_ENDPOINT_FLAG_SUBFLOW);
  text = mptcp_endpoint_to_string (e1);
  expected = g_strdup_printf ("%s id %u subflow dev c2", TESTBED_CLIENT2_V4,
                              mptcp_endpoint_get_id (e1));
  g_assert_cmpstr (text, ==, expected);
  ip = ip_state ();
  g_assert_nonnull (strstr (ip, "198.51.100.1 subflow dev c2"));
  assert_same_state (pm);

  /* chosen id, port, several flags */
  e2 = add_ok (pm, TESTBED_CLIENT1_V4, 0, 0,
               MPTCP_ENDPOINT_FLAG_SIGNAL | MPTCP_ENDPOINT_FLAG_BACKUP, 42);
  g_assert_cmpuint (mptcp_endpoint_get_id (e2), ==, 42);
  g_assert_null (mptcp_endpoint_get_ifname (e2));
  g_assert_cmpint (mptcp_endpoint_get_ifindex (e2), ==, 0);
  g_assert_true (mptcp_endpoint_has_flags (e2, MPTCP_ENDPOINT_FLAG_SIGNAL));
  g_assert_true (mptcp_endpoint_has_flags (e2, MPTCP_ENDPOINT_FLAG_SIGNAL |
                                               MPTCP_ENDPOINT_FLAG_BACKUP));
  g_assert_false (mptcp_endpoint_has_flags (e2, MPTCP_ENDPOINT_FLAG_SUBFLOW));
  assert_same_state (pm);

  e3 = add_ok (pm, TESTBED_CLIENT1_V6, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW | MPTCP_ENDPOINT_FLAG_FULLMESH,
               0);
  g_assert_cmpint (g_inet_address_get_family (mptcp_endpoint_get_address (e3)), ==,
                   G_SOCKET_FAMILY_IPV6);
  assert_same_state (pm);

  /* a signal endpoint with its own listening port (needs an address of this host) */
  e4 = add_ok (pm, TESTBED_CLIENT1_V4, 41000, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0);
  g_assert_cmpuint (mptcp_endpoint_get_port (e4), ==, 41000);
  assert_same_state (pm);

  /* properties */
  g_object_get (e1, "id", &id, "port", &port, "ifindex", &ifindex, "ifname", &ifname,
                "flags", &flags, "address", &address, NULL);
  g_assert_cmpuint (id, ==, mptcp_endpoint_get_id (e1));
  g_assert_cmpuint (port, ==, 0);
  g_assert_cmpint (ifindex, ==, c2);
  g_assert_cmpstr (ifname, ==, "c2");
  g_assert_cmpint (flags, ==, MPTCP_ENDPOINT_FLAG_SUBFLOW);
  g_assert_true (g_inet_address_equal (address, mptcp_endpoint_get_address (e1)));
  g_free (ifname);
  g_object_unref (address);

  /* get by id */
  {
    g_autoptr(MptcpEndpoint) got = mptcp_path_manager_get_endpoint (pm, 42, NULL, &error);
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    g_assert_no_error (error);
    a = endpoint_describe (got);
    b = endpoint_describe (e2);
    g_assert_cmpstr (a, ==, b);
  }

  /* ip writes, library reads */
  IP ("mptcp", "endpoint", "add", "203.0.113.7", "id", "77", "subflow", "fullmesh", "dev", "c1");
  {
    g_autoptr(MptcpEndpoint) got = mptcp_path_manager_get_endpoint (pm, 77, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (mptcp_endpoint_get_flags (got), ==,
                     MPTCP_ENDPOINT_FLAG_SUBFLOW | MPTCP_ENDPOINT_FLAG_FULLMESH);
    g_assert_cmpstr (mptcp_endpoint_get_ifname (got), ==, "c1");
    g_assert_cmpint (mptcp_endpoint_get_ifindex (got), ==, (int) if_nametoindex ("c1"));
  }
  IP ("mptcp", "endpoint", "add", "2001:db8:99::5", "id", "9", "signal", "port", "0");
  list = mptcp_path_manager_list_endpoints (pm, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 6);
  assert_same_state (pm);

  flush (pm);
  g_free (ip);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");
  assert_same_state (pm);
}

static void
test_endpoint_remove (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) e1 = NULL;
  g_autoptr(MptcpEndpoint) e2 = NULL;
  g_autoptr(GInetAddress) a1 = inet (TESTBED_CLIENT1_V4);
  g_autoptr(GInetAddress) mapped = inet ("::ffff:203.0.113.4");
  g_autofree char *ip = NULL;
  char id_text[16];
  MptcpEndpoint *gone;

  flush (pm);
  e1 = add_ok (pm, "203.0.113.1", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);
  e2 = add_ok (pm, "203.0.113.2", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0);
  assert_same_state (pm);

  /* library removes by id, ip sees it gone */
  g_assert_true (mptcp_path_manager_remove_endpoint (pm, mptcp_endpoint_get_id (e1), NULL,
                                                     &error));
  g_assert_no_error (error);
  ip = ip_state ();
  g_assert_null (strstr (ip, "203.0.113.1"));
  g_assert_nonnull (strstr (ip, "203.0.113.2"));
  assert_same_state (pm);

  /* ip adds, library removes by address (two endpoints: same address, one with a port) */
  IP ("mptcp", "endpoint", "add", TESTBED_CLIENT1_V4, "id", "30", "signal");
  IP ("mptcp", "endpoint", "add", TESTBED_CLIENT1_V4, "id", "31", "signal", "port", "41001");
  g_free (ip);
  ip = ip_state ();
  g_assert_nonnull (strstr (ip, "31 " TESTBED_CLIENT1_V4 " port 41001 signal"));
  assert_same_state (pm);
  g_assert_true (mptcp_path_manager_remove_endpoint_by_address (pm, a1, NULL, &error));
  g_assert_no_error (error);
  g_free (ip);
  ip = ip_state ();
  g_assert_null (strstr (ip, TESTBED_CLIENT1_V4));
  assert_same_state (pm);

  /* a v4-mapped form of an IPv4 endpoint counts as the same address */
  IP ("mptcp", "endpoint", "add", "203.0.113.4", "id", "40", "subflow");
  g_assert_true (mptcp_path_manager_remove_endpoint_by_address (pm, mapped, NULL, &error));
  g_assert_no_error (error);
  assert_same_state (pm);

  /* library adds, ip removes, library sees it gone */
  g_snprintf (id_text, sizeof id_text, "%u", mptcp_endpoint_get_id (e2));
  IP ("mptcp", "endpoint", "delete", "id", id_text);
  gone = mptcp_path_manager_get_endpoint (pm, mptcp_endpoint_get_id (e2), NULL, &error);
  g_assert_null (gone);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  assert_same_state (pm);
  g_free (ip);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");
}

static void
test_endpoint_flags (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) e = NULL;
  g_autoptr(MptcpEndpoint) s = NULL;
  g_autoptr(MptcpEndpoint) got = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *ip = NULL;
  char id_text[16];
  guint id;

  flush (pm);
  e = add_ok (pm, "203.0.113.10", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);
  s = add_ok (pm, "203.0.113.11", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0);
  id = mptcp_endpoint_get_id (e);

  g_assert_true (mptcp_path_manager_set_endpoint_flags (pm, id, MPTCP_ENDPOINT_FLAG_BACKUP, NULL,
                                                        &error));
  g_assert_no_error (error);
  ip = ip_state ();
  g_assert_nonnull (strstr (ip, "203.0.113.10 subflow backup"));
  assert_same_state (pm);

  g_assert_true (mptcp_path_manager_set_endpoint_flags (pm, id, MPTCP_ENDPOINT_FLAG_BACKUP |
                                                        MPTCP_ENDPOINT_FLAG_FULLMESH, NULL,
                                                        &error));
  g_assert_no_error (error);
  got = mptcp_path_manager_get_endpoint (pm, id, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mptcp_endpoint_get_flags (got), ==, MPTCP_ENDPOINT_FLAG_SUBFLOW |
                   MPTCP_ENDPOINT_FLAG_BACKUP | MPTCP_ENDPOINT_FLAG_FULLMESH);
  assert_same_state (pm);

  /* exactly the given bits: backup and fullmesh cleared */
  g_assert_true (mptcp_path_manager_set_endpoint_flags (pm, id, MPTCP_ENDPOINT_FLAG_NONE, NULL,
                                                        &error));
  g_assert_no_error (error);
  g_clear_object (&got);
  got = mptcp_path_manager_get_endpoint (pm, id, NULL, &error);
  g_assert_cmpint (mptcp_endpoint_get_flags (got), ==, MPTCP_ENDPOINT_FLAG_SUBFLOW);
  assert_same_state (pm);

  /* ip changes, library reads */
  g_snprintf (id_text, sizeof id_text, "%u", id);
  IP ("mptcp", "endpoint", "change", "id", id_text, "backup");
  g_clear_object (&got);
  got = mptcp_path_manager_get_endpoint (pm, id, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_endpoint_has_flags (got, MPTCP_ENDPOINT_FLAG_BACKUP));
  assert_same_state (pm);

  /* refused before anything is sent, nothing changes */
  before = ip_state ();
  g_assert_false (mptcp_path_manager_set_endpoint_flags (pm, id, MPTCP_ENDPOINT_FLAG_SIGNAL, NULL,
                                                         &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mptcp_path_manager_set_endpoint_flags (pm, id, MPTCP_ENDPOINT_FLAG_BACKUP |
                                                         MPTCP_ENDPOINT_FLAG_SUBFLOW, NULL,
                                                         &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* fullmesh on a signal endpoint */
  g_assert_false (mptcp_path_manager_set_endpoint_flags (pm, mptcp_endpoint_get_id (s),
                                                         MPTCP_ENDPOINT_FLAG_FULLMESH, NULL,
                                                         &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* unknown id */
  g_assert_false (mptcp_path_manager_set_endpoint_flags (pm, 200, MPTCP_ENDPOINT_FLAG_BACKUP,
                                                         NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);
  after = ip_state ();
  g_assert_cmpstr (before, ==, after);

  flush (pm);
}

static void
test_flush (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpEndpoint) e1 = NULL;
  g_autoptr(MptcpEndpoint) e2 = NULL;
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ip = NULL;

  e1 = add_ok (pm, "203.0.113.20", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);
  e2 = add_ok (pm, "203.0.113.21", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0);
  flush (pm);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");

  IP ("mptcp", "endpoint", "add", "203.0.113.22", "subflow");
  IP ("mptcp", "endpoint", "add", "203.0.113.23", "signal");
  list = mptcp_path_manager_list_endpoints (pm, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 2);
  flush (pm);
  g_free (ip);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");

  /* flushing an empty table is fine */
  flush (pm);
}

static void
test_limits (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  guint s = 0, a = 0, is = 0, ia = 0;

  /* library reads what the testbed set with ip */
  g_assert_true (mptcp_path_manager_get_limits (pm, &s, &a, NULL, &error));
  g_assert_no_error (error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (s, ==, is);
  g_assert_cmpuint (a, ==, ia);

  /* library writes, ip reads */
  g_assert_true (mptcp_path_manager_set_limits (pm, 3, 4, NULL, &error));
  g_assert_no_error (error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 3);
  g_assert_cmpuint (ia, ==, 4);

  /* ip writes, library reads */
  IP ("mptcp", "limits", "set", "subflows", "5", "add_addr_accepted", "6");
  g_assert_true (mptcp_path_manager_get_limits (pm, &s, &a, NULL, &error));
  g_assert_cmpuint (s, ==, 5);
  g_assert_cmpuint (a, ==, 6);

  /* one of them only */
  g_assert_true (mptcp_path_manager_set_limits (pm, MPTCP_PATH_MANAGER_LIMIT_UNCHANGED, 2, NULL,
                                                &error));
  g_assert_no_error (error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 5);
  g_assert_cmpuint (ia, ==, 2);
  g_assert_true (mptcp_path_manager_set_limits (pm, 0, MPTCP_PATH_MANAGER_LIMIT_UNCHANGED, NULL,
                                                &error));
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 0);
  g_assert_cmpuint (ia, ==, 2);

  /* optional out arguments */
  g_assert_true (mptcp_path_manager_get_limits (pm, NULL, &a, NULL, &error));
  g_assert_cmpuint (a, ==, 2);
  g_assert_true (mptcp_path_manager_get_limits (pm, NULL, NULL, NULL, &error));

  /* 9 is out of range: neither changes */
  g_assert_false (mptcp_path_manager_set_limits (pm, 9, 1, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  g_assert_false (mptcp_path_manager_set_limits (pm, 1, 9, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 0);
  g_assert_cmpuint (ia, ==, 2);

  /* "unchanged" is G_MAXUINT; the value just below it is out of range */
  g_assert_cmpuint (MPTCP_PATH_MANAGER_LIMIT_UNCHANGED, ==, G_MAXUINT);
  g_assert_false (mptcp_path_manager_set_limits (pm, G_MAXUINT - 1, 1, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  /* the maximum, which the testbed uses */
  g_assert_true (mptcp_path_manager_set_limits (pm, 8, 8, NULL, &error));
  g_assert_no_error (error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 8);
  g_assert_cmpuint (ia, ==, 8);
}

static char *
read_pm_sysctl (void)
{
  char *text = NULL;

  /* path_manager from Linux 6.15, pm_type before it */
  if (!g_file_get_contents (PM_SYSCTL, &text, NULL, NULL))
    g_assert_true (g_file_get_contents (PM_TYPE_SYSCTL, &text, NULL, NULL));
  return g_strstrip (text);
}

static void
write_proc (const char *path,
            const char *value)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, value, strlen (value)), ==, (gssize) strlen (value));
  close (fd);
}

/* The mode against the sysctl the running kernel has: net.mptcp.path_manager
 * ("kernel"/"userspace", Linux >= 6.15, which keeps pm_type as an alias) or only
 * net.mptcp.pm_type (0/1: Debian 12's 6.1 and 6.12). On both the library writes
 * and the sysctl reads, then the sysctl is written and the library reads; with
 * path_manager also the pm_type alias. */
static void
test_mode (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  MptcpPathManagerMode original;
  gboolean has_path_manager = g_file_test (PM_SYSCTL, G_FILE_TEST_EXISTS);
  const char *kernel_value = has_path_manager ? "kernel" : "0";
  const char *userspace_value = has_path_manager ? "userspace" : "1";

  g_test_message ("mode through %s", has_path_manager ? PM_SYSCTL : PM_TYPE_SYSCTL);

  /* the testbed puts the client on the userspace path manager */
  original = mptcp_path_manager_get_mode (pm, &error);
  g_assert_no_error (error);
  text = read_pm_sysctl ();
  g_assert_cmpstr (text, ==, userspace_value);
  g_assert_cmpint (original, ==, MPTCP_PATH_MANAGER_MODE_USERSPACE);

  /* library writes, the sysctl reads */
  g_assert_true (mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, &error));
  g_assert_no_error (error);
  g_free (text);
  text = read_pm_sysctl ();
  g_assert_cmpstr (text, ==, kernel_value);
  g_assert_true (mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_USERSPACE, &error));
  g_free (text);
  text = read_pm_sysctl ();
  g_assert_cmpstr (text, ==, userspace_value);

  /* the sysctl is written, the library reads */
  write_proc (has_path_manager ? PM_SYSCTL : PM_TYPE_SYSCTL, kernel_value);
  g_assert_cmpint (mptcp_path_manager_get_mode (pm, &error), ==, MPTCP_PATH_MANAGER_MODE_KERNEL);
  write_proc (PM_TYPE_SYSCTL, "1");
  g_assert_cmpint (mptcp_path_manager_get_mode (pm, &error), ==,
                   MPTCP_PATH_MANAGER_MODE_USERSPACE);
  g_assert_no_error (error);

  g_assert_true (mptcp_path_manager_set_mode (pm, original, &error));
  g_assert_no_error (error);
}

/* A path manager keeps acting on the namespace it was made in, also from a thread that moved to
 * another namespace; one made in that thread (with its own main context) acts there. */
static gpointer
thread_in_server_netns (gpointer user_data)
{
  MptcpPathManager *client_pm = user_data;
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/net", (int) testbed_server_pid ());
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(MptcpPathManager) server_pm = NULL;
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GError) error = NULL;
  MptcpPathManagerMode mode;
  guint i;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (setns (fd, CLONE_NEWNET), ==, 0);
  close (fd);
  g_assert_cmpint (if_nametoindex ("c2"), ==, 0);   /* really elsewhere now */

  /* the client's object: client mode, client endpoints, client device names */
  mode = mptcp_path_manager_get_mode (client_pm, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mode, ==, MPTCP_PATH_MANAGER_MODE_USERSPACE);
  list = mptcp_path_manager_list_endpoints (client_pm, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);
  g_assert_cmpstr (mptcp_endpoint_get_ifname (nth_endpoint (list, 0)), ==, "c2");
  g_clear_object (&list);

  /* an object made here: the server's in-kernel path manager, without that endpoint */
  g_main_context_push_thread_default (context);
  server_pm = pm_new ();
  mode = mptcp_path_manager_get_mode (server_pm, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mode, ==, MPTCP_PATH_MANAGER_MODE_KERNEL);
  list = mptcp_path_manager_list_endpoints (server_pm, NULL, &error);
  g_assert_no_error (error);
  for (i = 0; i < g_list_model_get_n_items (list); i++)
    g_assert_cmpstr (mptcp_endpoint_get_ifname (nth_endpoint (list, i)), !=, "c2");
  g_clear_object (&server_pm);
  g_main_context_pop_thread_default (context);

  return GINT_TO_POINTER (TRUE);
}

static void
test_namespace (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpEndpoint) e = NULL;
  GThread *thread;

  flush (pm);
  e = add_ok (pm, TESTBED_CLIENT2_V4, 0, (int) if_nametoindex ("c2"),
              MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);
  thread = g_thread_new ("server-netns", thread_in_server_netns, pm);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));
  flush (pm);
}

static void
assert_add_fails (MptcpPathManager   *pm,
                  const char         *address,
                  guint16             port,
                  int                 ifindex,
                  MptcpEndpointFlags  flags,
                  guint               id,
                  GQuark              domain,
                  int                 code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) inet_address = inet (address);
  g_autoptr(MptcpEndpoint) request = wanted (inet_address, port, ifindex, flags, id);
  g_autoptr(MptcpEndpoint) endpoint = NULL;
  g_autofree char *before = ip_state ();
  g_autofree char *after = NULL;

  endpoint = mptcp_path_manager_add_endpoint (pm, request, NULL, &error);
  g_assert_null (endpoint);
  g_assert_error (error, domain, code);
  g_test_message ("add %s port %u flags 0x%x id %u: %s", address, port, flags, id,
                  error->message);
  after = ip_state ();
  g_assert_cmpstr (before, ==, after);
}

static void
test_errors (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) e = NULL;
  g_autoptr(GInetAddress) nowhere = inet ("203.0.113.99");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  MptcpEndpoint *none;
  guint i;

  flush (pm);
  e = add_ok (pm, "203.0.113.30", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 5);

  /* duplicates: same address, same id */
  assert_add_fails (pm, "203.0.113.30", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0,
                    MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS);
  assert_add_fails (pm, "203.0.113.31", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 5,
                    MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS);

  /* bad flags, refused before anything is sent */
  assert_add_fails (pm, "203.0.113.32", 0, 0,
                    MPTCP_ENDPOINT_FLAG_SIGNAL | MPTCP_ENDPOINT_FLAG_FULLMESH, 0,
                    G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_add_fails (pm, "203.0.113.32", 0, 0, MPTCP_ENDPOINT_FLAG_IMPLICIT, 0,
                    G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_add_fails (pm, "203.0.113.32", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW | 0x80, 0,
                    G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_add_fails (pm, TESTBED_CLIENT1_V4, 4242, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0,
                    G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_add_fails (pm, TESTBED_CLIENT1_V4, 4242, 0,
                    MPTCP_ENDPOINT_FLAG_SIGNAL | MPTCP_ENDPOINT_FLAG_SUBFLOW, 0,
                    G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_add_fails (pm, "203.0.113.32", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 256,
                    MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);

  /* unknown ids and addresses */
  before = ip_state ();
  none = mptcp_path_manager_get_endpoint (pm, 99, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);
  g_assert_false (mptcp_path_manager_remove_endpoint (pm, 99, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);
  g_assert_false (mptcp_path_manager_remove_endpoint_by_address (pm, nowhere, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_NO_SUCH_ENDPOINT);
  g_clear_error (&error);
  /* id 0 would be silently ignored by the kernel: refused */
  g_assert_false (mptcp_path_manager_remove_endpoint (pm, 0, NULL, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  none = mptcp_path_manager_get_endpoint (pm, 0, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  none = mptcp_path_manager_get_endpoint (pm, 1000, NULL, &error);
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  after = ip_state ();
  g_assert_cmpstr (before, ==, after);

  /* a full table (8 endpoints): the ninth is out of range */
  for (i = 1; i < 8; i++)
    {
      g_autofree char *address = g_strdup_printf ("203.0.113.%u", 100 + i);
      g_object_unref (add_ok (pm, address, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0));
    }
  assert_add_fails (pm, "203.0.113.200", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0,
                    MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);

  flush (pm);
}

/* ---- without CAP_NET_ADMIN ------------------------------------------------------------------
 *
 * The unprivileged part runs in a child process: this binary again, started with
 * --unprivileged-child (a fork would inherit the test's objects, and under valgrind its leak
 * check at _exit() would count them as lost). It inherits the network namespace. */

static const char *self_path;

static int
unprivileged_child (gboolean userns)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpPathManager) pm = NULL;
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GInetAddress) address = inet ("203.0.113.50");
  g_autoptr(MptcpEndpoint) endpoint = NULL;
  guint s = 0, a = 0;
  int failures = 0, checks = 0;

#define CHILD_CHECK(cond) \
  G_STMT_START { \
    checks++; \
    if (!(cond)) \
      { \
        g_printerr ("child: %s:%d: %s failed%s%s\n", __FILE__, __LINE__, #cond, \
                    error ? ": " : "", error ? error->message : ""); \
        failures++; \
      } \
    g_clear_error (&error); \
  } G_STMT_END

  if (!testbed_drop_net_admin (&error))
    {
      g_printerr ("child: could not drop CAP_NET_ADMIN: %s\n", error->message);
      return 2;
    }

  pm = mptcp_path_manager_new (NULL, &error);
  CHILD_CHECK (pm != NULL);
  if (pm == NULL)
    return 3;

  /* reads work */
  list = mptcp_path_manager_list_endpoints (pm, NULL, &error);
  CHILD_CHECK (list != NULL && g_list_model_get_n_items (list) == 1);
  CHILD_CHECK (mptcp_path_manager_get_limits (pm, &s, &a, NULL, &error) && s == 8 && a == 8);
  CHILD_CHECK (mptcp_path_manager_get_mode (pm, &error) == MPTCP_PATH_MANAGER_MODE_USERSPACE &&
               error == NULL);

  /* changes are refused */
  {
    g_autoptr(MptcpEndpoint) request = wanted (address, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);

    endpoint = mptcp_path_manager_add_endpoint (pm, request, NULL, &error);
  }
  CHILD_CHECK (endpoint == NULL &&
               g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED) &&
               strstr (error->message, "CAP_NET_ADMIN") != NULL);
  CHILD_CHECK (!mptcp_path_manager_set_limits (pm, 1, 1, NULL, &error) &&
               g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED));
  CHILD_CHECK (!mptcp_path_manager_flush_endpoints (pm, NULL, &error) &&
               g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED));
  CHILD_CHECK (!mptcp_path_manager_remove_endpoint (pm, 60, NULL, &error) &&
               g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED));

  /* The sysctl belongs to the namespace's root user: who is that user may still write it
   * without CAP_NET_ADMIN. Real root can become someone else to test the refusal; inside a user
   * namespace (one mapped uid) that is impossible. */
  if (!userns)
    {
      if (setresgid (65534, 65534, 65534) < 0 || setresuid (65534, 65534, 65534) < 0)
        {
          g_printerr ("child: setresuid: %s\n", g_strerror (errno));
          return 4;
        }
      /* an object made without the right to write, and one made before */
      CHILD_CHECK (!mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, &error) &&
                   g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED));
      g_clear_object (&pm);
      pm = mptcp_path_manager_new (NULL, &error);
      CHILD_CHECK (pm != NULL);
      CHILD_CHECK (mptcp_path_manager_get_mode (pm, &error) ==
                   MPTCP_PATH_MANAGER_MODE_USERSPACE && error == NULL);
      CHILD_CHECK (!mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, &error) &&
                   g_error_matches (error, MPTCP_ERROR, MPTCP_ERROR_PERMISSION_DENIED) &&
                   strstr (error->message, "CAP_NET_ADMIN") != NULL);
    }

#undef CHILD_CHECK
  g_printerr ("child: %d of %d checks passed\n", checks - failures, checks);
  return failures == 0 ? 0 : 1;
}

static void
test_unprivileged (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpEndpoint) e = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *child_err = NULL;
  const char *argv[] = { NULL, "--unprivileged-child", NULL, NULL };
  guint s = 0, a = 0;
  int status;

  flush (pm);
  e = add_ok (pm, "203.0.113.60", 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 60);
  g_assert_true (mptcp_path_manager_set_limits (pm, 8, 8, NULL, &error));
  before = ip_state ();

  argv[0] = self_path;
  argv[2] = testbed_is_userns () ? "userns" : "root";
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                               NULL, NULL, &child_err, &status, &error));
  g_assert_no_error (error);
  g_assert_nonnull (child_err);
  g_test_message ("%s", g_strchomp (child_err));
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (child_err, testbed_is_userns () ? "child: 8 of 8 checks passed" :
                            "child: 12 of 12 checks passed"));
  if (testbed_is_userns ())
    g_test_message ("in a user namespace: the mode sysctl refusal was not tested");

  /* nothing changed */
  after = ip_state ();
  g_assert_cmpstr (before, ==, after);
  g_assert_true (mptcp_path_manager_get_limits (pm, &s, &a, NULL, &error));
  g_assert_cmpuint (s, ==, 8);
  g_assert_cmpuint (a, ==, 8);
  flush (pm);
}

/* ---- an endpoint makes the next connection use path 2 --------------------------------------- */

static guint
extra_subflows (GSocket *socket)
{
  guint8 info[96] = { 0 };
  socklen_t len = sizeof info;

  if (getsockopt (g_socket_get_fd (socket), SOL_MPTCP, MPTCP_INFO, info, &len) < 0)
    return 0;
  return info[0];   /* mptcpi_subflows: subflows beyond the first */
}

static gboolean
has_subflow_from (GSocket    *socket,
                  const char *local)
{
#ifdef MPTCP_TYPE_CONNECTION
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpConnection) connection = mptcp_connection_new (socket, &error);
  GListModel *subflows;
  guint i, n;

  g_assert_no_error (error);
  g_assert_true (mptcp_connection_refresh (connection, &error));
  g_assert_no_error (error);
  subflows = mptcp_connection_get_subflows (connection);
  n = g_list_model_get_n_items (subflows);
  for (i = 0; i < n; i++)
    {
      g_autoptr(MptcpSubflow) subflow = g_list_model_get_item (subflows, i);
      GInetSocketAddress *address = mptcp_subflow_get_local_address (subflow);
      g_autofree char *text =
        g_inet_address_to_string (g_inet_socket_address_get_address (address));

      g_test_message ("subflow %u: %s", mptcp_subflow_get_id (subflow), text);
      if (g_str_equal (text, local))
        return TRUE;
    }
  return FALSE;
#else
  /* MptcpConnection is not in the build: read MPTCP_SUBFLOW_ADDRS */
  struct
  {
    struct mptcp_subflow_data head;
    struct mptcp_subflow_addrs addrs[8];
  } buf;
  socklen_t len = sizeof buf;
  guint i;

  memset (&buf, 0, sizeof buf);
  buf.head.size_subflow_data = sizeof buf.head;
  buf.head.size_user = sizeof buf.addrs[0];
  if (getsockopt (g_socket_get_fd (socket), SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &buf, &len) < 0)
    return FALSE;
  for (i = 0; i < MIN (buf.head.num_subflows, 8); i++)
    {
      char text[INET6_ADDRSTRLEN] = "";

      if (buf.addrs[i].sa_local.sa_family == AF_INET)
        inet_ntop (AF_INET, &buf.addrs[i].sin_local.sin_addr, text, sizeof text);
      g_test_message ("subflow %u: %s", i, text);
      if (g_str_equal (text, local))
        return TRUE;
    }
  return FALSE;
#endif
}

static void
test_subflow_endpoint (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) e = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) server = NULL;
  char data[4096];
  gint64 deadline;
  MptcpPathManagerMode original;
  guint n = 0;

  original = mptcp_path_manager_get_mode (pm, &error);
  g_assert_no_error (error);
  g_assert_true (mptcp_path_manager_set_mode (pm, MPTCP_PATH_MANAGER_MODE_KERNEL, &error));
  g_assert_no_error (error);
  flush (pm);
  g_assert_true (mptcp_path_manager_set_limits (pm, 8, 8, NULL, &error));

  e = add_ok (pm, TESTBED_CLIENT2_V4, 0, (int) if_nametoindex ("c2"),
              MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);

  socket = mptcp_socket_new (G_SOCKET_FAMILY_IPV4, &error);
  g_assert_no_error (error);
  server = testbed_server_address (1, G_SOCKET_FAMILY_IPV4, TESTBED_PORT_SINK);
  g_assert_true (g_socket_connect (socket, server, NULL, &error));
  g_assert_no_error (error);
  memset (data, 'x', sizeof data);
  g_assert_cmpint (g_socket_send (socket, data, sizeof data, NULL, &error), ==, sizeof data);

  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while ((n = extra_subflows (socket)) < 1 && g_get_monotonic_time () < deadline)
    {
      g_socket_send (socket, data, 64, NULL, NULL);
      g_usleep (5000);
    }
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (has_subflow_from (socket, TESTBED_CLIENT2_V4));
  g_assert_true (has_subflow_from (socket, TESTBED_CLIENT1_V4));

  g_assert_true (g_socket_close (socket, &error));
  flush (pm);
  g_assert_true (mptcp_path_manager_set_mode (pm, original, &error));
  g_assert_no_error (error);
}

/* ---- asynchronous variants ------------------------------------------------------------------ */

typedef struct
{
  GMainLoop        *loop;
  MptcpPathManager *pm;
  GAsyncResult     *result;
} AsyncData;

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncData *data = user_data;

  g_assert_true (source == G_OBJECT (data->pm));
  g_assert_true (g_main_context_is_owner (g_main_loop_get_context (data->loop)));
  g_assert_null (data->result);
  data->result = g_object_ref (result);
  g_main_loop_quit (data->loop);
}

static void
wait_result (AsyncData *data)
{
  read_run_loop (data->loop, 30000);
  g_assert_nonnull (data->result);
}

static void
drop_result (AsyncData *data)
{
  g_clear_object (&data->result);
}

/* WAIT (&data) statement: runs the loop until the callback came, runs the statement (which
 * finishes data.result), then drops the result */
#define WAIT(data) for (wait_result (data); (data)->result != NULL; drop_result (data))

static void
test_async (void)
{
  AsyncData data = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MptcpEndpoint) e = NULL;
  g_autoptr(MptcpEndpoint) got = NULL;
  g_autoptr(GListModel) list = NULL;
  g_autoptr(GInetAddress) address = inet ("203.0.113.70");
  g_autoptr(GInetAddress) address2 = inet ("203.0.113.71");
  g_autofree char *ip = NULL;
  guint s = 0, a = 0, is = 0, ia = 0;

  data.loop = g_main_loop_new (NULL, FALSE);
  data.pm = pm_new ();
  flush (data.pm);
  {
    g_autoptr(MptcpEndpoint) request = wanted (address, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);

    mptcp_path_manager_add_endpoint_async (data.pm, request, NULL, got_result, &data);
  }
  WAIT (&data)
    e = mptcp_path_manager_add_endpoint_finish (data.pm, data.result, &error);
  g_assert_no_error (error);
  g_assert_true (MPTCP_IS_ENDPOINT (e));
  ip = ip_state ();
  g_assert_nonnull (strstr (ip, "203.0.113.70 subflow"));

  mptcp_path_manager_list_endpoints_async (data.pm, NULL, got_result, &data);
  WAIT (&data)
    list = mptcp_path_manager_list_endpoints_finish (data.pm, data.result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);

  mptcp_path_manager_get_endpoint_async (data.pm, mptcp_endpoint_get_id (e), NULL, got_result,
                                         &data);
  WAIT (&data)
    got = mptcp_path_manager_get_endpoint_finish (data.pm, data.result, &error);
  g_assert_no_error (error);
  g_assert_true (g_inet_address_equal (mptcp_endpoint_get_address (got), address));

  mptcp_path_manager_set_endpoint_flags_async (data.pm, mptcp_endpoint_get_id (e),
                                               MPTCP_ENDPOINT_FLAG_BACKUP, NULL, got_result,
                                               &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_set_endpoint_flags_finish (data.pm, data.result, &error));
  g_assert_no_error (error);
  assert_same_state (data.pm);

  mptcp_path_manager_set_limits_async (data.pm, 1, 7, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_set_limits_finish (data.pm, data.result, &error));
  g_assert_no_error (error);
  ip_limits (&is, &ia);
  g_assert_cmpuint (is, ==, 1);
  g_assert_cmpuint (ia, ==, 7);

  mptcp_path_manager_get_limits_async (data.pm, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_get_limits_finish (data.pm, data.result, &s, &a, &error));
  g_assert_cmpuint (s, ==, 1);
  g_assert_cmpuint (a, ==, 7);

  /* errors: from the kernel, and from the argument checks */
  {
    g_autoptr(MptcpEndpoint) request = wanted (address, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);

    mptcp_path_manager_add_endpoint_async (data.pm, request, NULL, got_result, &data);
  }
  WAIT (&data)
    g_assert_null (mptcp_path_manager_add_endpoint_finish (data.pm, data.result, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_ENDPOINT_EXISTS);
  g_clear_error (&error);

  mptcp_path_manager_set_limits_async (data.pm, 9, 9, NULL, got_result, &data);
  WAIT (&data)
    g_assert_false (mptcp_path_manager_set_limits_finish (data.pm, data.result, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);
  {
    g_autoptr(MptcpEndpoint) request = wanted (address2, 0, 0, MPTCP_ENDPOINT_FLAG_IMPLICIT, 0);

    mptcp_path_manager_add_endpoint_async (data.pm, request, NULL, got_result, &data);
  }
  WAIT (&data)
    g_assert_null (mptcp_path_manager_add_endpoint_finish (data.pm, data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  mptcp_path_manager_remove_endpoint_async (data.pm, 0, NULL, got_result, &data);
  WAIT (&data)
    g_assert_false (mptcp_path_manager_remove_endpoint_finish (data.pm, data.result, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  mptcp_path_manager_get_endpoint_async (data.pm, 0, NULL, got_result, &data);
  WAIT (&data)
    g_assert_null (mptcp_path_manager_get_endpoint_finish (data.pm, data.result, &error));
  g_assert_error (error, MPTCP_ERROR, MPTCP_ERROR_OUT_OF_RANGE);
  g_clear_error (&error);

  mptcp_path_manager_set_endpoint_flags_async (data.pm, 1, MPTCP_ENDPOINT_FLAG_SIGNAL, NULL,
                                               got_result, &data);
  WAIT (&data)
    g_assert_false (mptcp_path_manager_set_endpoint_flags_finish (data.pm, data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* removal by address, then by id, then flush */
  mptcp_path_manager_remove_endpoint_by_address_async (data.pm, address, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_remove_endpoint_by_address_finish (data.pm, data.result,
                                                                         &error));
  g_assert_no_error (error);
  g_free (ip);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");

  IP ("mptcp", "endpoint", "add", "203.0.113.72", "id", "72", "signal");
  mptcp_path_manager_remove_endpoint_async (data.pm, 72, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_remove_endpoint_finish (data.pm, data.result, &error));
  g_assert_no_error (error);

  IP ("mptcp", "endpoint", "add", "203.0.113.73", "id", "73", "signal");
  mptcp_path_manager_flush_endpoints_async (data.pm, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_flush_endpoints_finish (data.pm, data.result, &error));
  g_assert_no_error (error);
  g_free (ip);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");

  mptcp_path_manager_set_limits_async (data.pm, 8, 8, NULL, got_result, &data);
  WAIT (&data)
    g_assert_true (mptcp_path_manager_set_limits_finish (data.pm, data.result, &error));

  g_clear_object (&data.pm);
  g_main_loop_unref (data.loop);
}

static void
test_async_cancelled (void)
{
  AsyncData data = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable2 = g_cancellable_new ();
  g_autoptr(GInetAddress) address = inet ("203.0.113.80");
  g_autofree char *ip = NULL;
  guint s = 0;

  data.loop = g_main_loop_new (NULL, FALSE);
  data.pm = pm_new ();
  flush (data.pm);

  /* cancelled before it starts: nothing is sent */
  g_cancellable_cancel (cancellable);
  {
    g_autoptr(MptcpEndpoint) request = wanted (address, 0, 0, MPTCP_ENDPOINT_FLAG_SUBFLOW, 0);

    mptcp_path_manager_add_endpoint_async (data.pm, request, cancellable, got_result, &data);
  }
  WAIT (&data)
    g_assert_null (mptcp_path_manager_add_endpoint_finish (data.pm, data.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  ip = ip_state ();
  g_assert_cmpstr (ip, ==, "");

  /* cancelled while the request is in flight */
  mptcp_path_manager_get_limits_async (data.pm, cancellable2, got_result, &data);
  g_cancellable_cancel (cancellable2);
  WAIT (&data)
    g_assert_false (mptcp_path_manager_get_limits_finish (data.pm, data.result, &s, NULL,
                                                          &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* the sync variant too */
  g_assert_false (mptcp_path_manager_get_limits (data.pm, &s, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* and the object still works */
  g_assert_true (mptcp_path_manager_get_limits (data.pm, &s, NULL, NULL, &error));
  g_assert_no_error (error);

  g_clear_object (&data.pm);
  g_main_loop_unref (data.loop);
}

/* A synchronous call from another thread while the owner's loop is idle. */
static gpointer
thread_list (gpointer user_data)
{
  MptcpPathManager *pm = user_data;
  g_autoptr(GError) error = NULL;

  return mptcp_path_manager_list_endpoints (pm, NULL, &error);
}

static void
test_sync_other_thread (void)
{
  g_autoptr(MptcpPathManager) pm = pm_new ();
  g_autoptr(MptcpEndpoint) e = NULL;
  GListModel *list;
  GThread *thread;

  flush (pm);
  e = add_ok (pm, "203.0.113.90", 0, 0, MPTCP_ENDPOINT_FLAG_SIGNAL, 0);
  thread = g_thread_new ("list", thread_list, pm);
  list = g_thread_join (thread);
  g_assert_nonnull (list);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 1);
  g_object_unref (list);
  flush (pm);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_str_equal (argv[1], "--unprivileged-child"))
    return unprivileged_child (g_str_equal (argv[2], "userns"));

  self_path = argv[0];
  g_test_init (&argc, &argv, NULL);
  testbed_init_or_exit ();

  g_test_add_func ("/path-manager/new", test_new);
  g_test_add_func ("/path-manager/endpoints/add-list", test_endpoint_add_list);
  g_test_add_func ("/path-manager/endpoints/remove", test_endpoint_remove);
  g_test_add_func ("/path-manager/endpoints/flags", test_endpoint_flags);
  g_test_add_func ("/path-manager/endpoints/flush", test_flush);
  g_test_add_func ("/path-manager/limits", test_limits);
  g_test_add_func ("/path-manager/mode", test_mode);
  g_test_add_func ("/path-manager/namespace", test_namespace);
  g_test_add_func ("/path-manager/errors", test_errors);
  g_test_add_func ("/path-manager/unprivileged", test_unprivileged);
  g_test_add_func ("/path-manager/subflow-endpoint", test_subflow_endpoint);
  g_test_add_func ("/path-manager/async", test_async);
  g_test_add_func ("/path-manager/async-cancelled", test_async_cancelled);
  g_test_add_func ("/path-manager/sync-other-thread", test_sync_other_thread);

  return g_test_run ();
}
