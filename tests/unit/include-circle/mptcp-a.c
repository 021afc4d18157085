/* a room that uses b */
#include "mptcp-b-private.h"
