/* a room that uses a: the circle check-include-graph.py must find */
#include "mptcp-a-private.h"
