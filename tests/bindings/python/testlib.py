# testlib.py: what every Python test of mptcp-glib imports first.
#
# PyGObject prints an exception raised in a signal handler or an async callback
# and carries on: the test would exit 0 with its check never made. This makes
# any such exception end the process with status 1.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys
import traceback

if sys.flags.optimize:
    # assert statements are compiled out: the tests would check nothing
    print('the tests need their asserts: unset PYTHONOPTIMIZE', file=sys.stderr)
    sys.exit(1)


def _exit_on_exception(kind, value, tb):
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
    os._exit(1)


sys.excepthook = _exit_on_exception
