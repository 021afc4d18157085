/* mptcp-sockopt-private.h: the getsockopt readers (no GObject, no netlink)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This room is the only place of the library that calls getsockopt() for
 * MPTCP. It turns the kernel's answers into plain C data and reports failures
 * as negative errno values; the callers decide what an errno means for them.
 *
 * Every read is sized by the lengths the kernel returns, never by the system
 * header's structs: the kernel may fill less (older kernels) or pack array
 * elements at a smaller stride than asked.
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-sockopt-private.h is private to mptcp-glib"
#endif

#include <string.h>
#include <gio/gio.h>
#include <sys/socket.h>
#include <linux/mptcp.h>
#include <linux/tcp.h>

#include "mptcp-kernel-private.h"

G_BEGIN_DECLS

/* An IP endpoint, normalised: v4-mapped IPv6 addresses are turned into IPv4
 * ones, unused bytes are zero. Compare with _mptcp_sockopt_addr_equal(). */
typedef struct
{
  guint16 family;    /* AF_INET or AF_INET6 (0: none) */
  guint16 port;      /* host byte order */
  guint32 scope_id;  /* IPv6 only */
  guint8  addr[16];  /* 4 bytes for AF_INET, 16 for AF_INET6 */
} MptcpSockoptAddr;

/* What a socket is, for the kernel. */
typedef enum
{
  MPTCP_SOCKOPT_KIND_NOT_STREAM,     /* not an IPv4/IPv6 stream socket */
  MPTCP_SOCKOPT_KIND_TCP,            /* a plain TCP socket */
  MPTCP_SOCKOPT_KIND_MPTCP,          /* MPTCP, the connection is MPTCP */
  MPTCP_SOCKOPT_KIND_MPTCP_FALLBACK, /* MPTCP socket, connection fell back to TCP */
} MptcpSockoptKind;

typedef struct
{
  MptcpSockoptKind kind;
  int type;      /* SO_TYPE */
  int family;    /* SO_DOMAIN */
  int protocol;  /* SO_PROTOCOL */
} MptcpSockoptProbe;

/* Which getsockopt calls list the subflows. */
typedef enum
{
  MPTCP_SOCKOPT_PATH_FULL_INFO, /* one MPTCP_FULL_INFO call (Linux 6.5+) */
  MPTCP_SOCKOPT_PATH_LEGACY,    /* MPTCP_SUBFLOW_ADDRS + MPTCP_TCPINFO (5.16+), no ids */
} MptcpSockoptPath;

/* The subflow list of one connection as of the last read. The buffers are
 * kept and reused from one read to the next; entries are read with the
 * accessors below, which walk the buffers at the strides the kernel returned.
 * Entries are in the kernel's order, including subflows in state TCP_CLOSE. */
typedef struct
{
  /* results of the last successful read */
  guint n_subflows;          /* entries available through the accessors */
  guint n_kernel;            /* subflows the kernel has (may exceed n_subflows only transiently) */
  guint sfinfo_stride;       /* FULL_INFO: returned size of one mptcp_subflow_info */
  guint addrs_stride;        /* legacy: returned size of one mptcp_subflow_addrs */
  guint tcp_info_len;        /* returned size of one tcp_info (0: none) */

  /* private: the MPTCP_FULL_INFO argument, without its trailing mptcp_info:
   * given no room for it the kernel skips gathering the connection's
   * counters, which nothing here reads (mptcp_connection_get_info() asks
   * MPTCP_INFO when it is called) */
  mpx_full_info_head full_info;

  /* private: reused buffers, laid out for alloc_path */
  MptcpSockoptPath alloc_path;
  guint n_alloc;
  guint8 *sf_buf;
  guint8 *tcp_buf;
} MptcpSockoptList;

/* Bytes of tcp_info the library asks for: the 6.1 header's struct, which
 * holds every field the library reads. */
#define MPTCP_SOCKOPT_TCP_INFO_SIZE ((guint) sizeof (struct tcp_info))

G_GNUC_INTERNAL
void     _mptcp_sockopt_addr_from_sockaddr (MptcpSockoptAddr      *out,
                                            const struct sockaddr *sa,
                                            gsize                  len);
G_GNUC_INTERNAL
gsize    _mptcp_sockopt_addr_to_sockaddr   (const MptcpSockoptAddr  *addr,
                                            struct sockaddr_storage *out);
/* Family and address equal (port and scope ignored). Inline: the scans of a connection's
 * subflows and pending ops compare addresses once per entry. */
static inline gboolean
_mptcp_sockopt_addr_same_host (const MptcpSockoptAddr *a,
                               const MptcpSockoptAddr *b)
{
  return a->family == b->family &&
         memcmp (a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

/* Family, address and port equal (the port first: it tells a connection's subflows apart);
 * the scope is ignored (the kernel reports none). */
static inline gboolean
_mptcp_sockopt_addr_equal (const MptcpSockoptAddr *a,
                           const MptcpSockoptAddr *b)
{
  return a->port == b->port && _mptcp_sockopt_addr_same_host (a, b);
}

/* addr from an address's bytes and a port (host byte order), normalised as above (no
 * scope); FALSE, *out zeroed, if its family is neither IPv4 nor IPv6. No GSocketAddress
 * native conversion on the way. */
G_GNUC_INTERNAL
gboolean _mptcp_sockopt_addr_from_inet     (MptcpSockoptAddr       *out,
                                            GInetAddress           *address,
                                            guint16                 port);

/* What the host part of a normalised address names (so a v4-mapped IPv6 address is judged
 * as the IPv4 address it carries: ::ffff:0.0.0.0 is unspecified, ::ffff:224.0.0.1
 * multicast). */
typedef enum
{
  MPTCP_SOCKOPT_ADDR_UNICAST,
  MPTCP_SOCKOPT_ADDR_UNSPECIFIED,   /* 0.0.0.0, :: */
  MPTCP_SOCKOPT_ADDR_MULTICAST,     /* 224.0.0.0/4, ff00::/8 */
  MPTCP_SOCKOPT_ADDR_BROADCAST,     /* 255.255.255.255 */
} MptcpSockoptAddrKind;

static inline MptcpSockoptAddrKind
_mptcp_sockopt_addr_kind (const MptcpSockoptAddr *addr)
{
  static const guint8 zero[16] = { 0 };

  if (addr->family == AF_INET)
    {
      if (memcmp (addr->addr, zero, 4) == 0)
        return MPTCP_SOCKOPT_ADDR_UNSPECIFIED;
      if ((addr->addr[0] & 0xf0) == 0xe0)
        return MPTCP_SOCKOPT_ADDR_MULTICAST;
      if (memcmp (addr->addr, "\xff\xff\xff\xff", 4) == 0)
        return MPTCP_SOCKOPT_ADDR_BROADCAST;
      return MPTCP_SOCKOPT_ADDR_UNICAST;
    }
  if (memcmp (addr->addr, zero, 16) == 0)
    return MPTCP_SOCKOPT_ADDR_UNSPECIFIED;
  if (addr->addr[0] == 0xff)
    return MPTCP_SOCKOPT_ADDR_MULTICAST;
  return MPTCP_SOCKOPT_ADDR_UNICAST;
}

/* The GInetSocketAddress of addr (transfer full), NULL if its family is
 * neither IPv4 nor IPv6. */
G_GNUC_INTERNAL
GInetSocketAddress *_mptcp_sockopt_addr_to_inet  (const MptcpSockoptAddr  *addr);
/* *slot, made from addr on first use and kept there (transfer none; safe if
 * two threads race: one object wins). */
G_GNUC_INTERNAL
GInetSocketAddress *_mptcp_sockopt_addr_cached   (GInetSocketAddress     **slot,
                                                  const MptcpSockoptAddr  *addr);

/* SO_TYPE, SO_DOMAIN, SO_PROTOCOL, TCP_IS_MPTCP (MPTCP_INFO on kernels
 * without it). Returns 0 or -errno. */
G_GNUC_INTERNAL
int      _mptcp_sockopt_probe              (int                fd,
                                            MptcpSockoptProbe *out);

/* TCP_IS_MPTCP (or MPTCP_INFO before 6.10): 1 = still MPTCP, 0 = fell back,
 * -errno on failure. */
G_GNUC_INTERNAL
int      _mptcp_sockopt_is_mptcp           (int fd);
/* Its decision, from the TCP_IS_MPTCP read (r_opt: 0 with value, or -errno)
 * and, when that option is unknown, the MPTCP_INFO read (r_info). */
G_GNUC_INTERNAL
int      _mptcp_sockopt_is_mptcp_answer    (int r_opt,
                                            int value,
                                            int r_info);

/* MPTCP_INFO into buf (at most buf_size bytes); *out_len = bytes the kernel
 * returned. Returns 0 or -errno (-EOPNOTSUPP / -ENOPROTOOPT: not MPTCP, or
 * fell back). */
G_GNUC_INTERNAL
int      _mptcp_sockopt_get_mptcp_info     (int     fd,
                                            guint8 *buf,
                                            gsize   buf_size,
                                            gsize  *out_len);

G_GNUC_INTERNAL
void     _mptcp_sockopt_list_init          (MptcpSockoptList *list);
G_GNUC_INTERNAL
void     _mptcp_sockopt_list_clear         (MptcpSockoptList *list);

/* Reads the subflow list of fd through the given path. Returns 0 or -errno;
 * on FULL_INFO -EOPNOTSUPP means either "fell back" or "kernel older than
 * 6.5": ask _mptcp_sockopt_is_mptcp(). */
G_GNUC_INTERNAL
int      _mptcp_sockopt_list_read          (MptcpSockoptList *list,
                                            int               fd,
                                            MptcpSockoptPath  path);

/* The same through MPTCP_FULL_INFO (6.5 and later), with the connection's mptcp_info (as
 * MPTCP_INFO gives it: at most info_size bytes into info, *info_len set) from the same call:
 * one system call for the token and the list. The errors are those of the FULL_INFO path. */
G_GNUC_INTERNAL
int      _mptcp_sockopt_list_read_with_info (MptcpSockoptList *list,
                                             int               fd,
                                             guint8           *info,
                                             gsize             info_size,
                                             gsize            *info_len);

/* Accessors for entry i < list->n_subflows. */
static inline const struct mptcp_subflow_addrs *
_mptcp_sockopt_list_addrs (const MptcpSockoptList *list,
                           guint                   i)
{
  if (list->sfinfo_stride != 0)
    return &((const mpx_subflow_info *) (gconstpointer)
             (list->sf_buf + (gsize) i * list->sfinfo_stride))->addrs;
  return (const struct mptcp_subflow_addrs *) (gconstpointer)
    (list->sf_buf + sizeof (struct mptcp_subflow_data) + (gsize) i * list->addrs_stride);
}

/* The kernel's subflow id; 0 on the legacy path. */
static inline guint32
_mptcp_sockopt_list_id (const MptcpSockoptList *list,
                        guint                   i)
{
  if (list->sfinfo_stride == 0)
    return 0;
  return ((const mpx_subflow_info *) (gconstpointer)
          (list->sf_buf + (gsize) i * list->sfinfo_stride))->id;
}

/* The tcp_info of entry i, list->tcp_info_len bytes (NULL if none). */
static inline const guint8 *
_mptcp_sockopt_list_tcp_info (const MptcpSockoptList *list,
                              guint                   i)
{
  gsize head = list->sfinfo_stride != 0 ? 0 : sizeof (struct mptcp_subflow_data);

  if (list->tcp_info_len == 0)
    return NULL;
  return list->tcp_buf + head + (gsize) i * list->tcp_info_len;
}

/* tcpi_state of entry i (0 when the kernel returned no tcp_info). */
static inline guint8
_mptcp_sockopt_list_state (const MptcpSockoptList *list,
                           guint                   i)
{
  const guint8 *ti = _mptcp_sockopt_list_tcp_info (list, i);

  return ti != NULL ? ti[0] : 0;
}

G_GNUC_INTERNAL
void     _mptcp_sockopt_list_get_addrs     (const MptcpSockoptList *list,
                                            guint                   i,
                                            MptcpSockoptAddr       *local,
                                            MptcpSockoptAddr       *remote);

G_END_DECLS
