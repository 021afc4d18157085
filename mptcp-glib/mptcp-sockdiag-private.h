/* mptcp-sockdiag-private.h: the sock_diag room (NETLINK_SOCK_DIAG dumps of the namespace)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only code of the library that speaks NETLINK_SOCK_DIAG. One dump is up to four requests sent
 * one after the other on one socket (a netlink socket runs one dump at a time): the MPTCP
 * sockets of AF_INET and AF_INET6 (protocol IPPROTO_MPTCP through INET_DIAG_REQ_PROTOCOL,
 * with INET_DIAG_INFO = struct mptcp_info), then the TCP sockets of both families (with
 * INET_DIAG_INFO = struct tcp_info and, for MPTCP subflows, INET_DIAG_ULP_INFO with the
 * MPTCP_SUBFLOW_ATTR_* attributes). Listening sockets are asked for only when the dump's
 * listeners flag is set (and only MPTCP ones); TIME_WAIT and NEW_SYN_RECV sockets never. The replies land in plain structs, in arrays the caller keeps and that are reused
 * from one dump to the next (a dump of unchanged sockets allocates nothing once the arrays
 * have grown).
 *
 * No main loop here: _mptcp_sockdiag_dump_read() reads what the socket holds without blocking;
 * the owner calls it when the fd is readable (from its GMainContext) or after poll() for a
 * synchronous dump. The parser, _mptcp_sockdiag_parse_datagram(), is a pure function (the fuzz
 * target and the fake-peer tests call it).
 */

#pragma once

#if !defined (MPTCP_GLIB_COMPILATION) && !defined (MPTCP_GLIB_TESTS)
#error "mptcp-sockdiag-private.h is private to mptcp-glib"
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

/* bytes of struct mptcp_info / struct tcp_info kept per socket (6.18 fills 96 and 280) */
#define MPTCP_DIAG_INFO_MAX 384

typedef struct
{
  guint64 cookie;            /* idiag_cookie: the socket's identity while it lives */
  guint32 uid;
  guint32 inode;
  guint8  family;            /* AF_INET or AF_INET6 */
  guint8  state;             /* TCP state */
  guint16 sport;             /* host order */
  guint16 dport;
  guint8  src[16];           /* 4 bytes used for AF_INET */
  guint8  dst[16];
  /* subflows only (TCP dump): the INET_DIAG_ULP_INFO nest */
  guint8  ulp_mptcp;         /* the ULP is "mptcp" (name seen, or MPTCP attributes seen) */
  guint8  ulp_attrs;         /* the MPTCP_SUBFLOW_ATTR_* nest was there */
  guint8  id_loc;
  guint8  id_rem;
  guint32 token_loc;
  guint32 token_rem;
  guint32 sf_flags;          /* MPTCP_SUBFLOW_FLAG_* */
  /* INET_DIAG_INFO: struct mptcp_info (MPTCP dump) or struct tcp_info (TCP dump) */
  guint16 info_len;
  guint8  info[MPTCP_DIAG_INFO_MAX];
} MptcpDiagSocket;

typedef struct
{
  GArray  *connections;      /* of MptcpDiagSocket, from the MPTCP dumps */
  GArray  *subflows;         /* of MptcpDiagSocket, TCP sockets carrying MPTCP ULP info, or
                              * (ulp_mptcp 0) any other TCP socket when keep_tcp is set */
  gboolean keep_tcp;         /* keep TCP sockets without ULP info (to detect a degraded kernel) */
  gboolean listeners;        /* the MPTCP requests ask for listening sockets too */
  guint    step;             /* 0..3: which of the four requests is running; 4: done */
  guint32  seq;
  gboolean running;
} MptcpDiagDump;

typedef struct _MptcpSockDiag MptcpSockDiag;

/* A NETLINK_SOCK_DIAG socket of the calling thread's network namespace (it stays there). */
G_GNUC_INTERNAL
MptcpSockDiag *_mptcp_sockdiag_new        (GError       **error);
/* Over any datagram fd (a fake kernel on a socketpair in the tests); takes the fd. Messages
 * are not filtered by sender (there is no netlink address). */
G_GNUC_INTERNAL
MptcpSockDiag *_mptcp_sockdiag_new_for_fd (int            fd);
G_GNUC_INTERNAL
void           _mptcp_sockdiag_free       (MptcpSockDiag *self);
G_GNUC_INTERNAL
int            _mptcp_sockdiag_get_fd     (MptcpSockDiag *self);

G_GNUC_INTERNAL
void           _mptcp_diag_dump_init      (MptcpDiagDump *dump);
G_GNUC_INTERNAL
void           _mptcp_diag_dump_clear     (MptcpDiagDump *dump);

/* Test hook: the dumps started in this process so far (by any socket). */
G_GNUC_INTERNAL
guint          _mptcp_sockdiag_count_dumps (void);

/* Empties the arrays (keeping their memory) and sends the first request. */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_dump_start (MptcpSockDiag *self,
                                           MptcpDiagDump *dump,
                                           GError       **error);
/* Reads every datagram the socket holds now, sending the next request when one dump ends.
 * TRUE while the dump goes on or when it just ended (dump->running is then FALSE); FALSE with
 * error (the dump is over; its arrays hold part of a view). */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_dump_read  (MptcpSockDiag *self,
                                           MptcpDiagDump *dump,
                                           GError       **error);
/* A whole dump, blocking (poll() with timeout_ms per datagram). */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_dump_sync  (MptcpSockDiag *self,
                                           MptcpDiagDump *dump,
                                           guint          timeout_ms,
                                           GCancellable  *cancellable,
                                           GError       **error);

/* Builds the request of step 0..3 into buf (at least 128 bytes); returns its length. */
G_GNUC_INTERNAL
gsize          _mptcp_sockdiag_build_request (guint    step,
                                              guint32  seq,
                                              guint8  *buf);
/* The same; with listeners, the MPTCP requests (steps 0, 1) ask for listening sockets too. */
G_GNUC_INTERNAL
gsize          _mptcp_sockdiag_build_request_for (guint    step,
                                                  guint32  seq,
                                                  gboolean listeners,
                                                  guint8  *buf);

/* The pure parser: walks one datagram (4-byte aligned) of replies to request seq, appends
 * the sockets to out (MPTCP dump when mptcp is TRUE: every socket; TCP dump: those with MPTCP
 * ULP info, and the others when keep_tcp), and sets *done when the dump's NLMSG_DONE came.
 * Messages of another seq are skipped. FALSE with a GError (G_IO_ERROR_INVALID_DATA for a
 * malformed message, the errno's G_IO_ERROR for NLMSG_ERROR or a failed NLMSG_DONE). */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_parse_datagram (const guint8 *data,
                                               gsize         len,
                                               guint32       seq,
                                               gboolean      mptcp,
                                               gboolean      keep_tcp,
                                               GArray       *out,
                                               gboolean     *done,
                                               GError      **error);

/* The subflows of one connection, looked up one by one by their 4-tuple (a sock_diag request
 * without NLM_F_DUMP: a hash lookup in the kernel, no walk of the TCP hash). In: the n
 * sockets' family (AF_INET for IPv4, also IPv4-mapped), ports and addresses (src = this host).
 * Out: cookie is the socket's when the kernel found it (0: gone, or the 4-tuple now belongs to
 * another connection; state, info_len and info are then the socket's too, its struct tcp_info);
 * ulp_attrs is 1 when the kernel also returned its MPTCP subflow
 * attributes with token_loc = token (then sf_flags, id_loc, id_rem, token_rem are set), 0 for
 * a socket found without them: the kernel gives this process no ULP info (6.1 and 6.12 without
 * CAP_NET_ADMIN). All requests go out in one datagram; the kernel answers them
 * before send() returns. FALSE with a GError only when the socket itself fails. */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_lookup_subflows (MptcpSockDiag   *self,
                                                guint32          token,
                                                MptcpDiagSocket *sockets,
                                                guint            n,
                                                GError         **error);

/* One socket without a dump, answered before send() returns: with mptcp TRUE the MPTCP socket
 * of the local token (the kernel's MPTCP diag finds it by token; key unused), with mptcp FALSE
 * the TCP socket of key's 4-tuple (family, ports, src, dst as for _lookup_subflows()), with
 * its ULP info when the kernel gives it. *found FALSE (and TRUE returned) when the kernel has
 * no such socket. FALSE with a GError when the socket fails or the reply is malformed. */
G_GNUC_INTERNAL
gboolean       _mptcp_sockdiag_lookup_one (MptcpSockDiag         *self,
                                           gboolean               mptcp,
                                           guint32                token,
                                           const MptcpDiagSocket *key,
                                           MptcpDiagSocket       *out,
                                           gboolean              *found,
                                           GError               **error);

/* The same two endpoints (addresses compared with IPv4-mapped IPv6 as IPv4, and ports). */
G_GNUC_INTERNAL
gboolean       _mptcp_diag_socket_same_tuple (const MptcpDiagSocket *a,
                                              const MptcpDiagSocket *b);

G_END_DECLS
