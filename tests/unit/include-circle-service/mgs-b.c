/* a room that uses a: the circle check-include-graph.py --service must find */
#include "mgs-service-private.h"
#include "mgs-a.h"
