/* fuzz-sockdiag.c: fuzz target for the sock_diag parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Feeds arbitrary bytes to _mptcp_sockdiag_parse_datagram() (mptcp-sockdiag.c) as one datagram
 * of replies, in both modes (the MPTCP dump and the TCP dump, with and without plain TCP
 * sockets kept), and compares the 4-tuples of what it returns.
 *
 * With -DMPTCP_FUZZING it is a libFuzzer target (clang -fsanitize=fuzzer,address,undefined).
 * Without, main() runs a deterministic mutation loop over replies built as the kernel builds
 * them (tests/common/sockdiag-messages.h), so CI runs it with gcc, valgrind and ASan:
 *
 *   fuzz-sockdiag [ITERATIONS]          (default 100000; seed from MPTCP_FUZZ_SEED)
 *   fuzz-sockdiag --write-seeds DIR     write the seed inputs as files (a libFuzzer corpus)
 */

#include <string.h>
#include <stdint.h>
#include <stdlib.h>

#include <mptcp-glib/mptcp-glib.h>
#include "mptcp-kernel-private.h"
#include "mptcp-sockdiag-private.h"
#include "sockdiag-messages.h"

#define SEQ 7

static void
fuzz_one (const uint8_t *data, size_t size)
{
  /* the socket's buffer is aligned; so is this copy (g_malloc) */
  g_autofree guint8 *copy = g_memdup2 (data, size > 0 ? size : 1);
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));

  for (guint mode = 0; mode < 3; mode++)
    {
      GError *error = NULL;
      gboolean done = FALSE;

      g_array_set_size (out, 0);
      if (!_mptcp_sockdiag_parse_datagram (copy, size, SEQ, mode == 0, mode == 2, out, &done,
                                           &error))
        {
          g_assert (error != NULL);
          g_assert (error->domain == G_IO_ERROR);
          g_error_free (error);
        }
      for (guint i = 0; i < out->len; i++)
        {
          const MptcpDiagSocket *s = &g_array_index (out, MptcpDiagSocket, i);

          g_assert (s->family == AF_INET || s->family == AF_INET6);
          g_assert (s->info_len <= MPTCP_DIAG_INFO_MAX);
          g_assert (_mptcp_diag_socket_same_tuple (s, s));
          if (i > 0)
            (void) _mptcp_diag_socket_same_tuple (s, &g_array_index (out, MptcpDiagSocket, 0));
        }
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_one (data, size);
  return 0;
}

#ifndef MPTCP_FUZZING

typedef struct
{
  const char *name;
  guint8      data[4096];
  gsize       len;
} Seed;

static Seed seeds[5];

static void
build_seeds (void)
{
  Seed *s;

  s = &seeds[0];
  s->name = "mptcp-two-connections";
  for (guint i = 0; i < G_N_ELEMENTS (fake_conns); i++)
    fake_put_socket (s->data, &s->len, SEQ, TRUE, &fake_conns[i]);
  fake_put_done (s->data, &s->len, SEQ, 0);

  s = &seeds[1];
  s->name = "tcp-subflows";
  for (guint i = 0; i < G_N_ELEMENTS (fake_subflows); i++)
    fake_put_socket (s->data, &s->len, SEQ, FALSE, &fake_subflows[i]);
  fake_put_done (s->data, &s->len, SEQ, 0);

  s = &seeds[2];
  s->name = "tcp-degraded";
  for (guint i = 0; i < G_N_ELEMENTS (fake_subflows); i++)
    {
      FakeSock f = fake_subflows[i];

      f.ulp_attrs = FALSE;
      fake_put_socket (s->data, &s->len, SEQ, FALSE, &f);
    }

  s = &seeds[3];
  s->name = "error";
  fake_put_error (s->data, &s->len, SEQ, -1);

  s = &seeds[4];
  s->name = "done-failed";
  fake_put_socket (s->data, &s->len, SEQ + 1, TRUE, &fake_conns[0]);
  fake_put_done (s->data, &s->len, SEQ, -105);
}

static guint64 rng_state;

static guint32
rng (void)
{
  /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (guint32) ((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* a few random edits: bit flips, length fields, truncation, words */
static gsize
mutate (guint8 *buf, gsize len, gsize cap)
{
  guint edits = 1 + rng () % 4;

  while (edits-- > 0 && len > 0)
    {
      guint kind = rng () % 5;
      gsize at = rng () % len;

      if (kind == 0)
        buf[at] ^= (guint8) (1u << (rng () % 8));
      else if (kind == 1 && len >= 4)
        {
          /* a 16-bit length (nlmsg_len, nla_len) at a 4-aligned place */
          guint16 v = (guint16) (rng () % 4 == 0 ? rng () : rng () % 48);

          memcpy (buf + (at & ~(gsize) 3), &v, 2);
        }
      else if (kind == 2)
        len = at;
      else if (kind == 3 && len >= 4)
        {
          guint32 v = rng ();

          memcpy (buf + MIN (at, len - 4), &v, 4);
        }
      else if (kind == 4 && len < cap)
        {
          gsize n = MIN ((gsize) (1 + rng () % 16), cap - len);

          memmove (buf + at + n, buf + at, len - at);
          for (gsize i = 0; i < n; i++)
            buf[at + i] = (guint8) rng ();
          len += n;
        }
    }
  return len;
}

int
main (int argc, char **argv)
{
  guint64 iterations = 100000;
  const char *seed_env = g_getenv ("MPTCP_FUZZ_SEED");
  guint8 buf[8192];

  build_seeds ();
  if (argc == 3 && strcmp (argv[1], "--write-seeds") == 0)
    {
      for (guint i = 0; i < G_N_ELEMENTS (seeds); i++)
        {
          g_autofree char *path = g_build_filename (argv[2], seeds[i].name, NULL);
          g_autoptr(GError) error = NULL;

          if (!g_file_set_contents (path, (const char *) seeds[i].data, seeds[i].len, &error))
            {
              g_printerr ("%s\n", error->message);
              return 1;
            }
        }
      return 0;
    }
  if (argc > 1)
    iterations = g_ascii_strtoull (argv[1], NULL, 10);
  rng_state = seed_env != NULL ? g_ascii_strtoull (seed_env, NULL, 0) : 0x736f636b64696167ULL;
  if (rng_state == 0)
    rng_state = 1;

  /* the seeds themselves parse */
  {
    g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (MptcpDiagSocket));
    gboolean done = FALSE;

    g_assert (_mptcp_sockdiag_parse_datagram (seeds[0].data, seeds[0].len, SEQ, TRUE, FALSE,
                                              out, &done, NULL));
    g_assert (done && out->len == G_N_ELEMENTS (fake_conns));
    g_array_set_size (out, 0);
    g_assert (_mptcp_sockdiag_parse_datagram (seeds[1].data, seeds[1].len, SEQ, FALSE, FALSE,
                                              out, &done, NULL));
    g_assert (done && out->len == 3);
  }

  for (guint64 i = 0; i < iterations; i++)
    {
      const Seed *seed = &seeds[rng () % G_N_ELEMENTS (seeds)];
      gsize len;

      memcpy (buf, seed->data, seed->len);
      len = mutate (buf, seed->len, sizeof buf);
      fuzz_one (buf, len);
    }
  g_print ("fuzz-sockdiag: %" G_GUINT64_FORMAT " mutated inputs, no failure\n", iterations);
  return 0;
}

#endif /* !MPTCP_FUZZING */
