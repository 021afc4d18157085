/* a room that uses b */
#include "mgs-service-private.h"
#include "mgs-b.h"
