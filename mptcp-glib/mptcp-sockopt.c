/* mptcp-sockopt.c: the getsockopt readers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mptcp-sockopt-private.h"

/* First guess of the number of subflows; the buffers grow when the kernel
 * reports more. */
#define INITIAL_ALLOC 8
/* The legacy path reads addresses and tcp_info in two calls: retry when the
 * subflow count changed in between. */
#define LEGACY_RETRIES 4

void
_mptcp_sockopt_addr_from_sockaddr (MptcpSockoptAddr      *out,
                                   const struct sockaddr *sa,
                                   gsize                  len)
{
  memset (out, 0, sizeof *out);

  if (sa == NULL || len < sizeof (sa_family_t))
    return;

  if (sa->sa_family == AF_INET && len >= sizeof (struct sockaddr_in))
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) (gconstpointer) sa;

      out->family = AF_INET;
      out->port = g_ntohs (sin->sin_port);
      memcpy (out->addr, &sin->sin_addr, 4);
    }
  else if (sa->sa_family == AF_INET6 && len >= sizeof (struct sockaddr_in6))
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) (gconstpointer) sa;

      out->port = g_ntohs (sin6->sin6_port);
      if (IN6_IS_ADDR_V4MAPPED (&sin6->sin6_addr))
        {
          out->family = AF_INET;
          memcpy (out->addr, &sin6->sin6_addr.s6_addr[12], 4);
        }
      else
        {
          out->family = AF_INET6;
          out->scope_id = sin6->sin6_scope_id;
          memcpy (out->addr, &sin6->sin6_addr, 16);
        }
    }
}

gsize
_mptcp_sockopt_addr_to_sockaddr (const MptcpSockoptAddr  *addr,
                                 struct sockaddr_storage *out)
{
  memset (out, 0, sizeof *out);

  if (addr->family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) out;

      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (addr->port);
      memcpy (&sin->sin_addr, addr->addr, 4);
      return sizeof *sin;
    }
  if (addr->family == AF_INET6)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (addr->port);
      sin6->sin6_scope_id = addr->scope_id;
      memcpy (&sin6->sin6_addr, addr->addr, 16);
      return sizeof *sin6;
    }
  return 0;
}

gboolean
_mptcp_sockopt_addr_from_inet (MptcpSockoptAddr *out,
                               GInetAddress     *address,
                               guint16           port)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);

  memset (out, 0, sizeof *out);
  switch (g_inet_address_get_family (address))
    {
    case G_SOCKET_FAMILY_IPV4:
      out->family = AF_INET;
      memcpy (out->addr, bytes, 4);
      break;
    case G_SOCKET_FAMILY_IPV6:
      if (IN6_IS_ADDR_V4MAPPED ((const struct in6_addr *) (gconstpointer) bytes))
        {
          out->family = AF_INET;
          memcpy (out->addr, bytes + 12, 4);
        }
      else
        {
          out->family = AF_INET6;
          memcpy (out->addr, bytes, 16);
        }
      break;
    case G_SOCKET_FAMILY_INVALID:
    case G_SOCKET_FAMILY_UNIX:
    default:
      return FALSE;
    }
  out->port = port;
  return TRUE;
}

static int
get_int (int fd, int level, int name, int *value)
{
  socklen_t len = sizeof *value;

  *value = 0;
  if (getsockopt (fd, level, name, value, &len) < 0)
    return -errno;
  return 0;
}

GInetSocketAddress *
_mptcp_sockopt_addr_to_inet (const MptcpSockoptAddr *addr)
{
  struct sockaddr_storage ss;
  gsize len = _mptcp_sockopt_addr_to_sockaddr (addr, &ss);

  if (len == 0)
    return NULL;
  return G_INET_SOCKET_ADDRESS (g_socket_address_new_from_native (&ss, len));
}

GInetSocketAddress *
_mptcp_sockopt_addr_cached (GInetSocketAddress     **slot,
                            const MptcpSockoptAddr  *addr)
{
  GInetSocketAddress *address = g_atomic_pointer_get (slot);

  if (address != NULL)
    return address;
  address = _mptcp_sockopt_addr_to_inet (addr);
  if (address == NULL)
    return NULL;
  if (!g_atomic_pointer_compare_and_exchange (slot, NULL, address))
    {
      g_object_unref (address);
      address = g_atomic_pointer_get (slot);
    }
  return address;
}

int
_mptcp_sockopt_is_mptcp_answer (int r_opt,
                                int value,
                                int r_info)
{
  if (r_opt == 0)
    return value != 0 ? 1 : 0;
  if (r_opt != -ENOPROTOOPT && r_opt != -EOPNOTSUPP)
    return r_opt;
  /* Linux before 6.10 has no TCP_IS_MPTCP: an MPTCP socket's own SOL_TCP
   * handler answers EOPNOTSUPP, a fallen-back one plain TCP's ENOPROTOOPT.
   * MPTCP_INFO decides: a fallen-back connection refuses it. */
  if (r_info == 0)
    return 1;
  if (r_info == -EOPNOTSUPP || r_info == -ENOPROTOOPT)
    return 0;
  return r_info;
}

int
_mptcp_sockopt_is_mptcp (int fd)
{
  guint8 info[MPX_MPTCP_INFO_SIZE];
  gsize len;
  int value;
  int r;

  r = get_int (fd, IPPROTO_TCP, TCP_IS_MPTCP, &value);
  if (r != -ENOPROTOOPT && r != -EOPNOTSUPP)
    return _mptcp_sockopt_is_mptcp_answer (r, value, 0);
  return _mptcp_sockopt_is_mptcp_answer (r, value,
                                         _mptcp_sockopt_get_mptcp_info (fd, info, sizeof info, &len));
}

int
_mptcp_sockopt_probe (int                fd,
                      MptcpSockoptProbe *out)
{
  int r;

  memset (out, 0, sizeof *out);
  out->kind = MPTCP_SOCKOPT_KIND_NOT_STREAM;

  if ((r = get_int (fd, SOL_SOCKET, SO_TYPE, &out->type)) < 0 ||
      (r = get_int (fd, SOL_SOCKET, SO_DOMAIN, &out->family)) < 0 ||
      (r = get_int (fd, SOL_SOCKET, SO_PROTOCOL, &out->protocol)) < 0)
    return r;

  if (out->type != SOCK_STREAM ||
      (out->family != AF_INET && out->family != AF_INET6))
    return 0;

  if (out->protocol != IPPROTO_MPTCP)
    {
      /* Includes the accepted side of a plain TCP client on an MPTCP
       * listener: the kernel hands out a TCP socket there. */
      out->kind = MPTCP_SOCKOPT_KIND_TCP;
      return 0;
    }

  r = _mptcp_sockopt_is_mptcp (fd);
  if (r < 0)
    return r;
  out->kind = r ? MPTCP_SOCKOPT_KIND_MPTCP : MPTCP_SOCKOPT_KIND_MPTCP_FALLBACK;
  return 0;
}

int
_mptcp_sockopt_get_mptcp_info (int     fd,
                               guint8 *buf,
                               gsize   buf_size,
                               gsize  *out_len)
{
  socklen_t len = (socklen_t) buf_size;

  *out_len = 0;
  if (getsockopt (fd, SOL_MPTCP, MPTCP_INFO, buf, &len) < 0)
    return -errno;
  *out_len = MIN ((gsize) len, buf_size);
  return 0;
}

void
_mptcp_sockopt_list_init (MptcpSockoptList *list)
{
  memset (list, 0, sizeof *list);
}

void
_mptcp_sockopt_list_clear (MptcpSockoptList *list)
{
  g_free (list->sf_buf);
  g_free (list->tcp_buf);
  memset (list, 0, sizeof *list);
}

/* (Re)allocates room for n entries of the given path. */
static void
list_reserve (MptcpSockoptList *list,
              MptcpSockoptPath  path,
              guint             n)
{
  gsize head = path == MPTCP_SOCKOPT_PATH_LEGACY ? sizeof (struct mptcp_subflow_data) : 0;
  gsize sf_elem = path == MPTCP_SOCKOPT_PATH_LEGACY ?
    sizeof (struct mptcp_subflow_addrs) : sizeof (mpx_subflow_info);

  g_free (list->sf_buf);
  g_free (list->tcp_buf);
  list->alloc_path = path;
  list->n_alloc = n;
  /* 8-aligned: the kernel writes u64 fields into these */
  list->sf_buf = g_malloc0 (head + n * sf_elem);
  list->tcp_buf = g_malloc0 (head + n * MPTCP_SOCKOPT_TCP_INFO_SIZE);
}

/* info: also the trailing mptcp_info (info_size bytes at most, *info_len set), which the
 * kernel fills only when there is room for it; NULL: the head alone. */
static int
read_full_info (MptcpSockoptList *list,
                int               fd,
                guint8           *info,
                gsize             info_size,
                gsize            *info_len)
{
  mpx_full_info_head *head = &list->full_info;
  struct
  {
    mpx_full_info_head head;
    mpx_mptcp_info info;
  } with_info;

  G_STATIC_ASSERT (sizeof (mpx_full_info_head) == MPX_FULL_INFO_HEAD_SIZE);
  G_STATIC_ASSERT (sizeof (mpx_subflow_info) == 264);

  if (list->n_alloc == 0)
    list_reserve (list, MPTCP_SOCKOPT_PATH_FULL_INFO, INITIAL_ALLOC);

  for (;;)
    {
      socklen_t len = MPX_FULL_INFO_HEAD_SIZE;

      head->size_tcpinfo_kernel = 0;
      head->size_tcpinfo_user = MPTCP_SOCKOPT_TCP_INFO_SIZE;
      head->size_sfinfo_kernel = 0;
      head->size_sfinfo_user = sizeof (mpx_subflow_info);
      head->num_subflows = 0;
      head->size_arrays_user = list->n_alloc;
      head->subflow_info = (guint64) (guintptr) list->sf_buf;
      head->tcp_info = (guint64) (guintptr) list->tcp_buf;

      if (info != NULL)
        {
          G_STATIC_ASSERT (G_STRUCT_OFFSET (__typeof__ (with_info), info) == MPX_FULL_INFO_HEAD_SIZE);
          memset (&with_info.info, 0, sizeof with_info.info);
          with_info.head = *head;
          len = sizeof with_info;
          if (getsockopt (fd, SOL_MPTCP, MPX_FULL_INFO, &with_info, &len) < 0)
            return -errno;
          *head = with_info.head;
          /* a reply of the head alone (or shorter) carries no info: length 0, never the
           * huge value an unsigned underflow would give */
          if ((gsize) len > MPX_FULL_INFO_HEAD_SIZE)
            *info_len = MIN (MIN ((gsize) len, sizeof with_info) - MPX_FULL_INFO_HEAD_SIZE, info_size);
          else
            *info_len = 0;
          memcpy (info, &with_info.info, *info_len);
        }
      else if (getsockopt (fd, SOL_MPTCP, MPX_FULL_INFO, &list->full_info, &len) < 0)
        return -errno;

      if (head->num_subflows > list->n_alloc)
        {
          list_reserve (list, MPTCP_SOCKOPT_PATH_FULL_INFO, head->num_subflows + 4);
          continue;
        }

      list->n_kernel = head->num_subflows;
      list->n_subflows = head->num_subflows;
      list->sfinfo_stride = head->size_sfinfo_user;
      list->addrs_stride = 0;
      list->tcp_info_len = head->size_tcpinfo_user;
      if (list->sfinfo_stride < sizeof (mpx_subflow_info))
        {
          /* a kernel with a smaller entry than 6.5's: no usable addresses */
          list->n_subflows = 0;
          return -EPROTO;
        }
      return 0;
    }
}

/* One legacy array read (MPTCP_SUBFLOW_ADDRS or MPTCP_TCPINFO) into buf,
 * sized for list->n_alloc elements of elem bytes. */
static int
read_legacy_array (int                        fd,
                   int                        name,
                   guint8                    *buf,
                   guint                      n_alloc,
                   gsize                      elem,
                   struct mptcp_subflow_data *out)
{
  struct mptcp_subflow_data *data = (struct mptcp_subflow_data *) (gpointer) buf;
  socklen_t len = sizeof *data + n_alloc * elem;

  data->size_subflow_data = sizeof *data;
  data->num_subflows = 0;
  data->size_kernel = 0;
  data->size_user = elem;

  if (getsockopt (fd, SOL_MPTCP, name, buf, &len) < 0)
    return -errno;
  if (len < sizeof *data)
    return -EPROTO;
  *out = *data;
  return 0;
}

static int
read_legacy (MptcpSockoptList *list,
             int               fd)
{
  guint attempt;

  if (list->n_alloc == 0)
    list_reserve (list, MPTCP_SOCKOPT_PATH_LEGACY, INITIAL_ALLOC);

  for (attempt = 0; ; attempt++)
    {
      struct mptcp_subflow_data addrs = { 0 }, tcp = { 0 };
      int r;

      r = read_legacy_array (fd, MPTCP_SUBFLOW_ADDRS, list->sf_buf, list->n_alloc,
                             sizeof (struct mptcp_subflow_addrs), &addrs);
      if (r < 0)
        return r;
      r = read_legacy_array (fd, MPTCP_TCPINFO, list->tcp_buf, list->n_alloc,
                             MPTCP_SOCKOPT_TCP_INFO_SIZE, &tcp);
      if (r < 0)
        return r;

      if (MAX (addrs.num_subflows, tcp.num_subflows) > list->n_alloc)
        {
          list_reserve (list, MPTCP_SOCKOPT_PATH_LEGACY,
                        MAX (addrs.num_subflows, tcp.num_subflows) + 4);
          continue;
        }

      /* A subflow came or went between the two calls: the arrays may not
       * line up. Read again; after a few tries use the common prefix. */
      if (addrs.num_subflows != tcp.num_subflows && attempt < LEGACY_RETRIES)
        continue;

      list->sfinfo_stride = 0;
      list->addrs_stride = addrs.size_user;
      list->tcp_info_len = tcp.size_user;
      list->n_kernel = addrs.num_subflows;
      list->n_subflows = MIN (addrs.num_subflows, tcp.num_subflows);
      if (list->addrs_stride < sizeof (struct mptcp_subflow_addrs))
        {
          list->n_subflows = 0;
          return -EPROTO;
        }
      return 0;
    }
}

int
_mptcp_sockopt_list_read (MptcpSockoptList *list,
                          int               fd,
                          MptcpSockoptPath  path)
{
  int r;

  /* switching paths changes the buffer layout */
  if (list->n_alloc != 0 && list->alloc_path != path)
    _mptcp_sockopt_list_clear (list);

  if (path == MPTCP_SOCKOPT_PATH_LEGACY)
    r = read_legacy (list, fd);
  else
    r = read_full_info (list, fd, NULL, 0, NULL);

  if (r < 0)
    list->n_subflows = 0;
  return r;
}

int
_mptcp_sockopt_list_read_with_info (MptcpSockoptList *list,
                                    int               fd,
                                    guint8           *info,
                                    gsize             info_size,
                                    gsize            *info_len)
{
  int r;

  *info_len = 0;
  if (list->n_alloc != 0 && list->alloc_path != MPTCP_SOCKOPT_PATH_FULL_INFO)
    _mptcp_sockopt_list_clear (list);
  r = read_full_info (list, fd, info, info_size, info_len);
  if (r < 0)
    list->n_subflows = 0;
  return r;
}

void
_mptcp_sockopt_list_get_addrs (const MptcpSockoptList *list,
                               guint                   i,
                               MptcpSockoptAddr       *local,
                               MptcpSockoptAddr       *remote)
{
  const struct mptcp_subflow_addrs *a = _mptcp_sockopt_list_addrs (list, i);

  _mptcp_sockopt_addr_from_sockaddr (local, &a->sa_local, sizeof a->ss_local);
  _mptcp_sockopt_addr_from_sockaddr (remote, &a->sa_remote, sizeof a->ss_remote);
}
