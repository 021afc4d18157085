/* testbed.c: a throw-away two-path MPTCP network for the real-kernel tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * How it is built (see testbed.h for the topology):
 *
 *  1. unshare(CLONE_NEWNET) as root, else unshare(CLONE_NEWUSER | CLONE_NEWNET) and map our
 *     uid/gid to 0: the process now sits in the anonymous client namespace; keep an fd to it.
 *  2. unshare(CLONE_NEWNET) again: the anonymous server namespace; keep an fd to it and fork
 *     the server there (PR_SET_PDEATHSIG SIGKILL, so it dies with us whatever happens).
 *  3. setns() back to the client namespace and configure both sides with one `ip -batch -`
 *     each (the veth peers are created straight into the server's namespace by its pid).
 *  4. Wait for the server's "listening" line on a pipe and for IFF_RUNNING on all four links.
 *
 * Nothing has a name anywhere, so parallel test binaries cannot collide and a SIGKILL leaves
 * nothing behind: the namespaces go away with the last process or fd that holds them.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_LOWER 3
#endif

#define SERVER_READY_TIMEOUT_MS 5000
#define LINK_UP_TIMEOUT_MS 5000

static struct
{
  gboolean ready;
  gboolean userns;
  gboolean atexit_registered;
  pid_t owner;           /* the process that built the testbed */
  pid_t server_pid;
  int client_ns_fd;
  int server_ns_fd;
  char *server_netns_path;
} tb = { .client_ns_fd = -1, .server_ns_fd = -1 };

/* ------------------------------------------------------------------------------------ */
/* small helpers                                                                        */

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    {
      close (*fd);
      *fd = -1;
    }
}

static gboolean
set_errno_error (GError **error, int errsv, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
set_errno_error (GError **error, int errsv, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", msg,
               g_strerror (errsv));
  return FALSE;
}

static gboolean
write_file (const char *path, const char *contents, GError **error)
{
  size_t len = strlen (contents);
  ssize_t n;
  int fd;

  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return set_errno_error (error, errno, "open %s", path);
  do
    n = write (fd, contents, len);
  while (n < 0 && errno == EINTR);
  if (n < 0 || (size_t) n != len)
    {
      int errsv = n < 0 ? errno : EIO;
      close (fd);
      return set_errno_error (error, errsv, "write “%s” to %s", contents, path);
    }
  close (fd);
  return TRUE;
}

/* PATH first, then the sbin directories a normal user's PATH usually lacks. */
static char *
find_program (const char *name)
{
  static const char * const extra[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
  char *found;

  if (strchr (name, '/') != NULL)
    return g_strdup (name);
  found = g_find_program_in_path (name);
  if (found != NULL)
    return found;
  for (gsize i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      char *p = g_build_filename (extra[i], name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_EXECUTABLE))
        return p;
      g_free (p);
    }
  return NULL;
}

static char *
read_all_fd (int fd)
{
  GString *s = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  if (lseek (fd, 0, SEEK_SET) == 0)
    {
      while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
          g_string_append_len (s, buf, n);
    }
  return g_string_free (s, FALSE);
}

static int
memfd_with (const char *name, const char *contents)
{
  int fd = memfd_create (name, MFD_CLOEXEC);
  size_t len, done = 0;

  if (fd < 0 || contents == NULL)
    return fd;
  len = strlen (contents);
  while (done < len)
    {
      ssize_t n = write (fd, contents + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          close (fd);
          return -1;
        }
      done += n;
    }
  lseek (fd, 0, SEEK_SET);
  return fd;
}

/* Run argv synchronously, in network namespace netns_fd if >= 0, stdin from stdin_text (or
 * /dev/null), stdout and stderr into memfds (no pipes, so no deadlock and no threads).
 * Only async-signal-safe calls between fork() and exec. */
static gboolean
run_argv (const char * const *argv,
          int                 netns_fd,
          const char         *stdin_text,
          char              **out_stdout,
          GError            **error)
{
  g_autofree char *prog = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int in_fd = -1, out_fd = -1, err_fd = -1;
  int status = 0, errsv;
  pid_t pid;

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, FALSE);

  cmdline = g_strjoinv (" ", (char **) argv);
  prog = find_program (argv[0]);
  if (prog == NULL)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT,
                   "“%s” not found in PATH, /usr/sbin or /sbin", argv[0]);
      return FALSE;
    }

  in_fd = stdin_text != NULL ? memfd_with ("testbed-stdin", stdin_text)
                             : open ("/dev/null", O_RDONLY | O_CLOEXEC);
  out_fd = memfd_create ("testbed-stdout", MFD_CLOEXEC);
  err_fd = memfd_create ("testbed-stderr", MFD_CLOEXEC);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0)
    {
      errsv = errno;
      close_fd (&in_fd);
      close_fd (&out_fd);
      close_fd (&err_fd);
      return set_errno_error (error, errsv, "memfd for `%s`", cmdline);
    }

  pid = fork ();
  if (pid < 0)
    {
      errsv = errno;
      close_fd (&in_fd);
      close_fd (&out_fd);
      close_fd (&err_fd);
      return set_errno_error (error, errsv, "fork for `%s`", cmdline);
    }
  if (pid == 0)
    {
      static const char setns_failed[] = "testbed: setns() into the namespace failed\n";
      static const char exec_failed[] = "testbed: exec failed\n";

      if (dup2 (in_fd, 0) < 0 || dup2 (out_fd, 1) < 0 || dup2 (err_fd, 2) < 0)
        _exit (126);
      if (netns_fd >= 0 && setns (netns_fd, CLONE_NEWNET) < 0)
        {
          if (write (2, setns_failed, sizeof setns_failed - 1) < 0)
            _exit (126);
          _exit (126);
        }
      execv (prog, (char * const *) argv);
      if (write (2, exec_failed, sizeof exec_failed - 1) < 0)
        _exit (127);
      _exit (127);
    }

  close_fd (&in_fd);
  while (waitpid (pid, &status, 0) < 0)
    {
      if (errno != EINTR)
        {
          errsv = errno;
          close_fd (&out_fd);
          close_fd (&err_fd);
          return set_errno_error (error, errsv, "waitpid for `%s`", cmdline);
        }
    }
  out = read_all_fd (out_fd);
  err = read_all_fd (err_fd);
  close_fd (&out_fd);
  close_fd (&err_fd);

  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_autofree char *how = NULL;

      if (WIFEXITED (status))
        how = g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
      else if (WIFSIGNALED (status))
        how = g_strdup_printf ("was killed by signal %d", WTERMSIG (status));
      else
        how = g_strdup_printf ("ended with wait status 0x%x", (guint) status);
      g_set_error (error, G_SPAWN_EXIT_ERROR, WIFEXITED (status) ? WEXITSTATUS (status) : 128,
                   "`%s` %s: %s", cmdline, how, g_strstrip (err));
      return FALSE;
    }
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&out);
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* the server (runs in the forked child: plain C, no GLib)                              */

enum
{
  KIND_SINK,
  KIND_ECHO,
  KIND_LISTEN_SINK,
  KIND_LISTEN_ECHO,
};

typedef struct
{
  int fd;
  int kind;
  int eof;          /* echo: the peer shut down its side; flush, then close */
  char *pending;    /* echo: bytes read but not yet written back */
  size_t len, off;
} ServerConn;

#define ECHO_BUF_SIZE (64 * 1024)

static ServerConn *srv_conns;
static size_t srv_n, srv_cap;

static void
srv_add (int fd, int kind)
{
  if (srv_n == srv_cap)
    {
      size_t cap = srv_cap ? srv_cap * 2 : 64;
      ServerConn *c = realloc (srv_conns, cap * sizeof *c);
      if (c == NULL)
        {
          close (fd);
          return;
        }
      srv_conns = c;
      srv_cap = cap;
    }
  memset (&srv_conns[srv_n], 0, sizeof srv_conns[srv_n]);
  srv_conns[srv_n].fd = fd;
  srv_conns[srv_n].kind = kind;
  srv_n++;
}

static void
srv_close (ServerConn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  free (c->pending);
  c->pending = NULL;
}

static int
srv_listen (int port, int protocol, char *err, size_t errlen)
{
  struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons (port),
                               .sin6_addr = IN6ADDR_ANY_INIT };
  int fd, zero = 0, one = 1;

  fd = socket (AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0)
    {
      snprintf (err, errlen, "server: socket(AF_INET6, SOCK_STREAM, %d) for port %d: %s",
                protocol, port, strerror (errno));
      return -1;
    }
  if (setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0
      || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
      || bind (fd, (struct sockaddr *) &sin6, sizeof sin6) < 0
      || listen (fd, 4096) < 0)
    {
      snprintf (err, errlen, "server: listener on [::]:%d: %s", port, strerror (errno));
      close (fd);
      return -1;
    }
  return fd;
}

static void
srv_echo_send (ServerConn *c)
{
  while (c->off < c->len)
    {
      ssize_t n = send (c->fd, c->pending + c->off, c->len - c->off,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0)
        c->off += n;
      else if (n < 0 && errno == EINTR)
        continue;
      else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      else
        {
          srv_close (c);
          return;
        }
    }
  c->off = c->len = 0;
  if (c->eof)
    {
      shutdown (c->fd, SHUT_WR);
      srv_close (c);
    }
}

static void
srv_read (ServerConn *c)
{
  static char sink_buf[ECHO_BUF_SIZE];
  ssize_t n;

  if (c->kind == KIND_ECHO)
    {
      if (c->pending == NULL && (c->pending = malloc (ECHO_BUF_SIZE)) == NULL)
        {
          srv_close (c);
          return;
        }
      n = recv (c->fd, c->pending, ECHO_BUF_SIZE, MSG_DONTWAIT);
      if (n > 0)
        {
          c->len = n;
          c->off = 0;
          srv_echo_send (c);
        }
      else if (n == 0)
        {
          c->eof = 1;
          srv_echo_send (c);
        }
      else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
        srv_close (c);
      return;
    }

  /* sink: drain everything that is there */
  for (int i = 0; i < 16; i++)
    {
      n = recv (c->fd, sink_buf, sizeof sink_buf, MSG_DONTWAIT);
      if (n > 0)
        continue;
      if (n == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
        srv_close (c);
      return;
    }
}

static void
srv_accept (ServerConn *l, int *paused)
{
  for (;;)
    {
      int one = 1;
      int fd = accept4 (l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            *paused = 1;  /* back off a little instead of spinning */
          if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      srv_add (fd, l->kind == KIND_LISTEN_ECHO ? KIND_ECHO : KIND_SINK);
    }
}

static void
srv_loop (void)
{
  struct pollfd *pfds = NULL;
  size_t pcap = 0;
  int paused = 0;

  for (;;)
    {
      size_t j = 0;
      int r;

      /* compact the table */
      for (size_t i = 0; i < srv_n; i++)
        if (srv_conns[i].fd >= 0)
          srv_conns[j++] = srv_conns[i];
      srv_n = j;

      if (pcap < srv_n)
        {
          struct pollfd *p = realloc (pfds, srv_cap * sizeof *p);
          if (p == NULL)
            _exit (3);
          pfds = p;
          pcap = srv_cap;
        }
      for (size_t i = 0; i < srv_n; i++)
        {
          ServerConn *c = &srv_conns[i];
          pfds[i].fd = c->fd;
          pfds[i].revents = 0;
          if (c->kind == KIND_LISTEN_SINK || c->kind == KIND_LISTEN_ECHO)
            pfds[i].events = paused ? 0 : POLLIN;
          else if (c->len > c->off)
            pfds[i].events = POLLOUT;
          else
            pfds[i].events = POLLIN;
        }

      r = poll (pfds, srv_n, paused ? 20 : -1);
      paused = 0;
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          _exit (4);
        }

      /* srv_add() may move srv_conns: index, don't keep pointers across calls */
      for (size_t i = 0, n = srv_n; i < n; i++)
        {
          short rev = pfds[i].revents;
          int kind = srv_conns[i].kind;

          if (rev == 0 || srv_conns[i].fd < 0)
            continue;
          if (kind == KIND_LISTEN_SINK || kind == KIND_LISTEN_ECHO)
            {
              ServerConn l = srv_conns[i];
              srv_accept (&l, &paused);
            }
          else if (srv_conns[i].len > srv_conns[i].off)
            srv_echo_send (&srv_conns[i]);
          else
            srv_read (&srv_conns[i]);
        }
    }
}

static void
close_other_fds (int keep)
{
  /* keep stdio and `keep` (moved to 3), close the rest */
  if (keep != 3)
    {
      if (dup2 (keep, 3) < 0)
        _exit (5);
    }
  if (syscall (SYS_close_range, 4U, ~0U, 0U) < 0)
    {
      long max = sysconf (_SC_OPEN_MAX);
      for (long fd = 4; fd < (max > 0 ? max : 1024); fd++)
        close ((int) fd);
    }
}

static G_GNUC_NORETURN void
server_main (int ready_fd, pid_t parent)
{
  static const struct { int port, protocol, kind; } ports[] = {
    { TESTBED_PORT_SINK, IPPROTO_MPTCP, KIND_LISTEN_SINK },
    { TESTBED_PORT_ECHO, IPPROTO_MPTCP, KIND_LISTEN_ECHO },
    { TESTBED_PORT_TCP, IPPROTO_TCP, KIND_LISTEN_SINK },
  };
  struct rlimit rl;
  char err[256];
  int devnull;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (0);  /* the parent died before prctl() */
  prctl (PR_SET_NAME, "testbed-server");

  signal (SIGPIPE, SIG_IGN);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGHUP, SIG_DFL);

  close_other_fds (ready_fd);
  ready_fd = 3;
  devnull = open ("/dev/null", O_RDWR);
  if (devnull >= 0)
    {
      dup2 (devnull, 0);
      dup2 (devnull, 1);
      if (devnull > 3)
        close (devnull);
    }

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }

  for (size_t i = 0; i < G_N_ELEMENTS (ports); i++)
    {
      int fd = srv_listen (ports[i].port, ports[i].protocol, err, sizeof err);
      if (fd < 0)
        {
          dprintf (ready_fd, "%s\n", err);
          _exit (1);
        }
      srv_add (fd, ports[i].kind);
    }
  if (write (ready_fd, "OK\n", 3) != 3)
    _exit (2);
  close (ready_fd);

  srv_loop ();
  _exit (0);
}

/* ------------------------------------------------------------------------------------ */
/* building                                                                             */

/* unshare(CLONE_NEWNET) would move only the calling thread; CLONE_NEWUSER refuses outright */
static guint
count_threads (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  if (dir == NULL)
    return 1;
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

static gboolean
enter_namespaces (GError **error)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  g_autofree char *map = NULL;
  int root_errno = 0;

  if (uid == 0)
    {
      if (unshare (CLONE_NEWNET) == 0)
        {
          tb.userns = FALSE;
          return TRUE;
        }
      root_errno = errno;  /* e.g. a container without CAP_SYS_ADMIN: try a user namespace */
    }

  if (unshare (CLONE_NEWUSER | CLONE_NEWNET) < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "cannot create namespaces: %s%s%s%s (not root: user namespaces needed; check "
                   "sysctl user.max_user_namespaces and kernel.unprivileged_userns_clone)",
                   root_errno ? "unshare(CLONE_NEWNET) as root: " : "",
                   root_errno ? g_strerror (root_errno) : "",
                   root_errno ? "; unshare(CLONE_NEWUSER|CLONE_NEWNET): "
                              : "unshare(CLONE_NEWUSER|CLONE_NEWNET): ",
                   g_strerror (errsv));
      return FALSE;
    }
  tb.userns = TRUE;

  /* setgroups must be denied before an unprivileged process may write gid_map; the file
   * is missing before Linux 3.19 */
  if (g_file_test ("/proc/self/setgroups", G_FILE_TEST_EXISTS)
      && !write_file ("/proc/self/setgroups", "deny", error))
    return FALSE;
  map = g_strdup_printf ("0 %u 1", (guint) uid);
  if (!write_file ("/proc/self/uid_map", map, error))
    return FALSE;
  g_free (map);
  map = g_strdup_printf ("0 %u 1", (guint) gid);
  if (!write_file ("/proc/self/gid_map", map, error))
    return FALSE;
  return TRUE;
}

static gboolean
check_mptcp (GError **error)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);

  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "the kernel cannot make MPTCP sockets (socket(AF_INET, SOCK_STREAM, "
                   "IPPROTO_MPTCP): %s)%s", g_strerror (errsv),
                   errsv == ENOPROTOOPT ? ": net.mptcp.enabled is 0"
                   : (errsv == EPROTONOSUPPORT || errsv == EINVAL)
                     ? ": no MPTCP in this kernel (CONFIG_MPTCP, Linux >= 5.6)" : "");
      return FALSE;
    }
  close (fd);

  /* the userspace path manager is what the library's control tests need */
  if (g_file_test ("/proc/sys/net/mptcp/path_manager", G_FILE_TEST_EXISTS))
    return write_file ("/proc/sys/net/mptcp/path_manager", "userspace", error);
  if (g_file_test ("/proc/sys/net/mptcp/pm_type", G_FILE_TEST_EXISTS))
    return write_file ("/proc/sys/net/mptcp/pm_type", "1", error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "the kernel has no userspace MPTCP path manager "
               "(neither net.mptcp.path_manager nor net.mptcp.pm_type exists; Linux >= 5.19)");
  return FALSE;
}

static gboolean
wait_server_ready (int ready_fd, GError **error)
{
  char buf[512];
  size_t len = 0;
  gint64 deadline = g_get_monotonic_time () + SERVER_READY_TIMEOUT_MS * 1000;

  for (;;)
    {
      struct pollfd pfd = { .fd = ready_fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      ssize_t n;

      if (left <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "the testbed server did not start listening within %d ms",
                       SERVER_READY_TIMEOUT_MS);
          return FALSE;
        }
      if (poll (&pfd, 1, (int) left) < 0)
        {
          if (errno == EINTR)
            continue;
          return set_errno_error (error, errno, "poll on the server's ready pipe");
        }
      if (pfd.revents == 0)
        continue;
      n = read (ready_fd, buf + len, sizeof buf - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, errno, "read from the server's ready pipe");
      len += n;
      buf[len] = '\0';
      if (n == 0 || len == sizeof buf - 1 || memchr (buf, '\n', len) != NULL)
        break;
    }

  if (strcmp (buf, "OK\n") == 0)
    return TRUE;
  g_strstrip (buf);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the testbed server failed: %s",
               buf[0] ? buf : "it exited before listening");
  return FALSE;
}

static gboolean
link_running (int ctl_fd, const char *ifname)
{
  struct ifreq ifr;

  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, ifname, sizeof ifr.ifr_name);
  if (ioctl (ctl_fd, SIOCGIFFLAGS, &ifr) < 0)
    return FALSE;
  return (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}

/* veth carrier and qdisc activation go through the kernel's linkwatch work: until then
 * packets are dropped and the first SYN would wait a second for its retransmission. */
static gboolean
wait_links_running (int client_ctl, int server_ctl, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + LINK_UP_TIMEOUT_MS * 1000;

  for (;;)
    {
      const char *down = NULL;

      if (!link_running (client_ctl, TESTBED_CLIENT1_IFNAME))
        down = TESTBED_CLIENT1_IFNAME;
      else if (!link_running (client_ctl, TESTBED_CLIENT2_IFNAME))
        down = TESTBED_CLIENT2_IFNAME;
      else if (!link_running (server_ctl, TESTBED_SERVER1_IFNAME))
        down = TESTBED_SERVER1_IFNAME;
      else if (!link_running (server_ctl, TESTBED_SERVER2_IFNAME))
        down = TESTBED_SERVER2_IFNAME;
      if (down == NULL)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "link %s is not running after %d ms", down, LINK_UP_TIMEOUT_MS);
          return FALSE;
        }
      g_usleep (500);
    }
}

/* Explicit interface indexes: by default c1 and s1 would both get ifindex 2 in their own
 * namespaces, and a veth whose peer's ifindex equals its own is not an "urgent" linkwatch
 * event, so the kernel would report IFF_RUNNING on the server side only after up to one
 * second. With distinct indexes the whole build takes about 10 ms. */
static const char client_batch[] =
  "link set lo up\n"
  "link add " TESTBED_CLIENT1_IFNAME " index 11 type veth peer name " TESTBED_SERVER1_IFNAME
  " index 21 netns %d\n"
  "link add " TESTBED_CLIENT2_IFNAME " index 12 type veth peer name " TESTBED_SERVER2_IFNAME
  " index 22 netns %d\n"
  "addr add " TESTBED_CLIENT1_V4 "/24 dev " TESTBED_CLIENT1_IFNAME "\n"
  "addr add " TESTBED_CLIENT1_V6 "/64 dev " TESTBED_CLIENT1_IFNAME " nodad\n"
  "addr add " TESTBED_CLIENT2_V4 "/24 dev " TESTBED_CLIENT2_IFNAME "\n"
  "link set " TESTBED_CLIENT1_IFNAME " up\n"
  "link set " TESTBED_CLIENT2_IFNAME " up\n"
  "route add 203.0.113.0/24 via " TESTBED_SERVER2_V4 "\n"
  "mptcp limits set subflows 8 add_addr_accepted 8\n";

static const char server_batch[] =
  "link set lo up\n"
  "addr add " TESTBED_SERVER1_V4 "/24 dev " TESTBED_SERVER1_IFNAME "\n"
  "addr add " TESTBED_SERVER1_V6 "/64 dev " TESTBED_SERVER1_IFNAME " nodad\n"
  "addr add " TESTBED_SERVER2_V4 "/24 dev " TESTBED_SERVER2_IFNAME "\n"
  "link set " TESTBED_SERVER1_IFNAME " up\n"
  "link set " TESTBED_SERVER2_IFNAME " up\n"
  "route add blackhole 203.0.113.0/24\n"
  "mptcp limits set subflows 8 add_addr_accepted 8\n";

static void
teardown_at_exit (void)
{
  testbed_teardown ();
}

gboolean
testbed_init (GError **error)
{
  static const char * const ip_batch[] = { "ip", "-batch", "-", NULL };
  g_autofree char *ip = NULL;
  g_autofree char *batch = NULL;
  int ready[2] = { -1, -1 };
  int client_ctl = -1, server_ctl = -1;
  pid_t parent, pid;
  guint n_threads;

  if (tb.ready)
    return TRUE;

  n_threads = count_threads ();
  if (n_threads > 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "the process already has %u threads: call testbed_init_or_exit() first "
                   "in main(), before anything starts a thread", n_threads);
      return FALSE;
    }

  ip = find_program ("ip");
  if (ip == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "`ip` (iproute2) not found in PATH, /usr/sbin or /sbin");
      return FALSE;
    }

  if (!enter_namespaces (error))
    return FALSE;
  tb.owner = getpid ();
  tb.client_ns_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (tb.client_ns_fd < 0)
    return set_errno_error (error, errno, "open /proc/self/ns/net");
  if (!check_mptcp (error))
    goto fail;
  client_ctl = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (client_ctl < 0)
    {
      set_errno_error (error, errno, "socket(AF_INET, SOCK_DGRAM)");
      goto fail;
    }

  /* the server side */
  if (unshare (CLONE_NEWNET) < 0)
    {
      set_errno_error (error, errno, "unshare(CLONE_NEWNET) for the server namespace");
      goto fail;
    }
  tb.server_ns_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  server_ctl = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (tb.server_ns_fd < 0 || server_ctl < 0)
    {
      set_errno_error (error, errno, "server namespace fd");
      goto fail;
    }
  if (pipe2 (ready, O_CLOEXEC) < 0)
    {
      set_errno_error (error, errno, "pipe2");
      goto fail;
    }
  fflush (stdout);
  fflush (stderr);
  parent = getpid ();
  pid = fork ();
  if (pid < 0)
    {
      set_errno_error (error, errno, "fork for the testbed server");
      goto fail;
    }
  if (pid == 0)
    {
      close (ready[0]);
      server_main (ready[1], parent);
    }
  tb.server_pid = pid;
  tb.server_netns_path = g_strdup_printf ("/proc/%d/ns/net", (int) pid);
  close_fd (&ready[1]);
  if (!tb.atexit_registered)
    {
      atexit (teardown_at_exit);
      tb.atexit_registered = TRUE;
    }

  if (setns (tb.client_ns_fd, CLONE_NEWNET) < 0)
    {
      set_errno_error (error, errno, "setns() back to the client namespace");
      goto fail;
    }

  /* both sides: one `ip` each */
  batch = g_strdup_printf (client_batch, (int) pid, (int) pid);
  if (!run_argv (ip_batch, -1, batch, NULL, error))
    {
      g_prefix_error (error, "client side: ");
      goto fail;
    }
  if (!run_argv (ip_batch, tb.server_ns_fd, server_batch, NULL, error))
    {
      g_prefix_error (error, "server side: ");
      goto fail;
    }

  if (!wait_server_ready (ready[0], error))
    goto fail;
  if (!wait_links_running (client_ctl, server_ctl, error))
    goto fail;

  close_fd (&ready[0]);
  close_fd (&client_ctl);
  close_fd (&server_ctl);
  tb.ready = TRUE;
  return TRUE;

fail:
  close_fd (&ready[0]);
  close_fd (&ready[1]);
  close_fd (&client_ctl);
  close_fd (&server_ctl);
  testbed_teardown ();
  return FALSE;
}

void
testbed_init_or_exit (void)
{
  g_autoptr(GError) error = NULL;
  const char *require = g_getenv (TESTBED_REQUIRE_ENV);

  if (testbed_init (&error))
    return;

  /* a bug in the test, not a missing feature of the machine: never a skip */
  if (g_strcmp0 (require, "1") == 0 || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    {
      g_printerr ("testbed: cannot build the MPTCP testbed: %s\n", error->message);
      exit (1);
    }
  /* TAP: a plan of 0 tests with the reason */
  printf ("1..0 # SKIP %s\n", error->message);
  fflush (stdout);
  exit (0);
}

void
testbed_teardown (void)
{
  if (tb.owner != 0 && tb.owner != getpid ())
    return;  /* a forked child: the testbed belongs to its parent */

  if (tb.server_pid > 0)
    {
      int status;

      kill (tb.server_pid, SIGKILL);
      while (waitpid (tb.server_pid, &status, 0) < 0 && errno == EINTR)
        ;
      tb.server_pid = 0;
    }
  close_fd (&tb.server_ns_fd);
  close_fd (&tb.client_ns_fd);
  g_clear_pointer (&tb.server_netns_path, g_free);
  tb.ready = FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* queries and helpers for the tests                                                    */

gboolean
testbed_is_userns (void)
{
  return tb.userns;
}

GPid
testbed_server_pid (void)
{
  return tb.server_pid;
}

const char *
testbed_server_netns_path (void)
{
  return tb.server_netns_path;
}

GSocketAddress *
testbed_server_address (guint path, GSocketFamily family, guint16 port)
{
  const char *addr = NULL;

  if (family == G_SOCKET_FAMILY_IPV4)
    addr = path == 1 ? TESTBED_SERVER1_V4 : path == 2 ? TESTBED_SERVER2_V4 : NULL;
  else if (family == G_SOCKET_FAMILY_IPV6 && path == 1)
    addr = TESTBED_SERVER1_V6;
  g_return_val_if_fail (addr != NULL, NULL);
  return g_inet_socket_address_new_from_string (addr, port);
}

GInetAddress *
testbed_client_inet_address (guint path, GSocketFamily family)
{
  const char *addr = NULL;

  if (family == G_SOCKET_FAMILY_IPV4)
    addr = path == 1 ? TESTBED_CLIENT1_V4 : path == 2 ? TESTBED_CLIENT2_V4 : NULL;
  else if (family == G_SOCKET_FAMILY_IPV6 && path == 1)
    addr = TESTBED_CLIENT1_V6;
  g_return_val_if_fail (addr != NULL, NULL);
  return g_inet_address_new_from_string (addr);
}

gboolean
testbed_run_in_server (const char * const *argv, char **out_stdout, GError **error)
{
  if (tb.server_ns_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "the testbed is not built");
      return FALSE;
    }
  return run_argv (argv, tb.server_ns_fd, NULL, out_stdout, error);
}

gboolean
testbed_run_in_client (const char * const *argv, char **out_stdout, GError **error)
{
  return run_argv (argv, -1, NULL, out_stdout, error);
}

gboolean
testbed_drop_net_admin (GError **error)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  const guint32 bit = 1u << (CAP_NET_ADMIN % 32);
  const int word = CAP_NET_ADMIN / 32;

  /* the bounding set first: dropping it needs CAP_SETPCAP, which capset keeps */
  if (prctl (PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) > 0
      && prctl (PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) < 0)
    return set_errno_error (error, errno, "prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN)");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_ADMIN, 0, 0) < 0 && errno != EINVAL)
    return set_errno_error (error, errno, "prctl(PR_CAP_AMBIENT_LOWER, CAP_NET_ADMIN)");

  memset (data, 0, sizeof data);
  if (syscall (SYS_capget, &hdr, data) < 0)
    return set_errno_error (error, errno, "capget");
  data[word].effective &= ~bit;
  data[word].permitted &= ~bit;
  data[word].inheritable &= ~bit;
  if (syscall (SYS_capset, &hdr, data) < 0)
    return set_errno_error (error, errno, "capset");

  /* check */
  memset (data, 0, sizeof data);
  if (syscall (SYS_capget, &hdr, data) < 0)
    return set_errno_error (error, errno, "capget");
  if ((data[word].effective | data[word].permitted | data[word].inheritable) & bit
      || prctl (PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "CAP_NET_ADMIN is still there");
      return FALSE;
    }
  return TRUE;
}

static char *
sysctl_path (const char *path)
{
  g_autofree char *rel = NULL;

  if (path[0] == '/')
    return g_strdup (path);
  rel = g_strdup (path);
  if (strchr (rel, '/') == NULL)
    g_strdelimit (rel, ".", '/');
  return g_build_filename ("/proc/sys", rel, NULL);
}

char *
testbed_read_sysctl (const char *path)
{
  g_autofree char *file = NULL;
  char *contents = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  file = sysctl_path (path);
  if (!g_file_get_contents (file, &contents, NULL, NULL))
    return NULL;
  return g_strchomp (contents);
}

gboolean
testbed_write_sysctl (const char *path, const char *value, GError **error)
{
  g_autofree char *file = NULL;

  g_return_val_if_fail (path != NULL && value != NULL, FALSE);
  file = sysctl_path (path);
  return write_file (file, value, error);
}

int
testbed_socket_in_server (int domain, int type, int protocol, GError **error)
{
  int fd, errsv;

  if (tb.server_ns_fd < 0 || tb.client_ns_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "the testbed is not built");
      return -1;
    }
  if (setns (tb.server_ns_fd, CLONE_NEWNET) < 0)
    {
      set_errno_error (error, errno, "setns() into the server namespace");
      return -1;
    }
  fd = socket (domain, type | SOCK_CLOEXEC, protocol);
  errsv = errno;
  if (setns (tb.client_ns_fd, CLONE_NEWNET) < 0)
    g_error ("testbed: cannot return to the client namespace: %s", g_strerror (errno));
  if (fd < 0)
    set_errno_error (error, errsv, "socket(%d, %d, %d) in the server namespace",
                     domain, type, protocol);
  return fd;
}

#define TBF_LINE "qdisc replace dev %s root tbf rate %" G_GUINT64_FORMAT "bit burst %" \
                 G_GUINT64_FORMAT " latency 50ms\n"

/* "20mbit", "500kbit", "1gbit", "2mbps" (bytes), "1000000" (bit/s) → bit/s; 0 if bad */
static guint64
parse_rate (const char *rate)
{
  static const struct { const char *unit; guint64 mult; } units[] = {
    { "", 1 }, { "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
    { "bps", 8 }, { "kbps", 8000 }, { "mbps", 8000000 }, { "gbps", 8000000000 },
  };
  char *end = NULL;
  double value;

  value = g_ascii_strtod (rate, &end);
  if (end == rate || value <= 0)
    return 0;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_ascii_strcasecmp (end, units[i].unit) == 0)
      return (guint64) (value * units[i].mult);
  return 0;
}

gboolean
testbed_set_rate (const char *rate, GError **error)
{
  static const char * const tc_batch[] = { "tc", "-batch", "-", NULL };
  g_autofree char *client = NULL;
  g_autofree char *server = NULL;
  guint64 bits = parse_rate (rate);
  guint64 burst;
  if (tb.server_ns_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "the testbed is not built");
      return FALSE;
    }
  if (bits == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad rate “%s” (examples: 20mbit, 500kbit, 1gbit, 2mbps)", rate);
      return FALSE;
    }
  /* 10 ms worth of bytes, at least 10 full-size frames */
  burst = MAX (bits / 8 / 100, 15140);
  client = g_strdup_printf (TBF_LINE TBF_LINE, TESTBED_CLIENT1_IFNAME, bits, burst,
                            TESTBED_CLIENT2_IFNAME, bits, burst);
  server = g_strdup_printf (TBF_LINE TBF_LINE, TESTBED_SERVER1_IFNAME, bits, burst,
                            TESTBED_SERVER2_IFNAME, bits, burst);
  if (!run_argv (tc_batch, -1, client, NULL, error))
    return FALSE;
  return run_argv (tc_batch, tb.server_ns_fd, server, NULL, error);
}
