/* mptcp-service.c: the names shared by mptcp-glib-service and its clients
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "mptcp-error.h"
#include "mptcp-service-private.h"

static const GDBusErrorEntry error_entries[] = {
  { MPTCP_ERROR_FAILED,               MPTCP_SERVICE_ERROR_PREFIX "Failed" },
  { MPTCP_ERROR_NOT_MPTCP,            MPTCP_SERVICE_ERROR_PREFIX "NotMptcp" },
  { MPTCP_ERROR_FALLBACK,             MPTCP_SERVICE_ERROR_PREFIX "Fallback" },
  { MPTCP_ERROR_DISABLED,             MPTCP_SERVICE_ERROR_PREFIX "Disabled" },
  { MPTCP_ERROR_NOT_SUPPORTED,        MPTCP_SERVICE_ERROR_PREFIX "NotSupported" },
  { MPTCP_ERROR_PERMISSION_DENIED,    MPTCP_SERVICE_ERROR_PREFIX "PermissionDenied" },
  { MPTCP_ERROR_WRONG_PATH_MANAGER,   MPTCP_SERVICE_ERROR_PREFIX "WrongPathManager" },
  { MPTCP_ERROR_NOT_ESTABLISHED,      MPTCP_SERVICE_ERROR_PREFIX "NotEstablished" },
  { MPTCP_ERROR_NO_SUCH_SUBFLOW,      MPTCP_SERVICE_ERROR_PREFIX "NoSuchSubflow" },
  { MPTCP_ERROR_INVALID_ADDRESS,      MPTCP_SERVICE_ERROR_PREFIX "InvalidAddress" },
  { MPTCP_ERROR_KERNEL_REFUSED,       MPTCP_SERVICE_ERROR_PREFIX "KernelRefused" },
  { MPTCP_ERROR_CLOSED,               MPTCP_SERVICE_ERROR_PREFIX "Closed" },
  { MPTCP_ERROR_NO_SUCH_ENDPOINT,     MPTCP_SERVICE_ERROR_PREFIX "NoSuchEndpoint" },
  { MPTCP_ERROR_ENDPOINT_EXISTS,      MPTCP_SERVICE_ERROR_PREFIX "EndpointExists" },
  { MPTCP_ERROR_OUT_OF_RANGE,         MPTCP_SERVICE_ERROR_PREFIX "OutOfRange" },
};

void
_mptcp_service_register_error_domain (void)
{
  /* the name of mptcp_error_quark(): the registration maps MPTCP_ERROR itself */
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("mptcp-error-quark", &quark, error_entries,
                                      G_N_ELEMENTS (error_entries));
}

/* MPTCP_SERVICE_ENV as read: G_MININT until then (a getenv() walks the whole environment,
 * and every control operation of a connection with the AUTO policy asks) */
static gint env_choice = G_MININT;

int
_mptcp_service_env_choice (void)
{
  gint choice = g_atomic_int_get (&env_choice);

  if (G_UNLIKELY (choice == G_MININT))
    {
      const char *mode = g_getenv (MPTCP_SERVICE_ENV);

      if (g_strcmp0 (mode, "never") == 0)
        choice = -1;
      else if (g_strcmp0 (mode, "always") == 0)
        choice = 1;
      else
        choice = 0;
      g_atomic_int_set (&env_choice, choice);
    }
  return choice;
}

void
_mptcp_service_reload_environment (void)
{
  g_atomic_int_set (&env_choice, G_MININT);
}

gboolean
_mptcp_service_error_is_absent (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_FILE_NOT_FOUND) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}
