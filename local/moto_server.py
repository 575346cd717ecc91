"""The SQS emulator (moto's server) with one performance fix; run by local/stack.sh.

moto 5.2.5's `send_message` evaluates `queue.attributes` for every message it stores, and that
property counts the queue's messages three times (ApproximateNumberOfMessages, ...Delayed,
...NotVisible). Sending therefore costs O(messages in the queue): enqueueing 1,000 deliveries for
one event took ~10 s on a 2-core machine, where real SQS takes milliseconds. The only thing the
send path reads from that dict is `ContentBasedDeduplication`, which exists only on FIFO queues, so
the check is made FIFO-first: `queue.fifo_queue and queue.attributes...`. Same answers, no scan for
standard queues. The patch is applied to moto's own source text and refuses to start if that text
is not found (moto is pinned in local/constraints.txt; a new version needs this file looked at).
"""

import inspect
import sys
import textwrap

from moto.server import main
from moto.sqs import models

EXPECTED_MOTO = "5.2.5"
NEEDLE = 'if queue.attributes.get("ContentBasedDeduplication") == "true":'
REPLACEMENT = 'if queue.fifo_queue and queue.attributes.get("ContentBasedDeduplication") == "true":'


def patch_send_message() -> None:
    import moto

    source = textwrap.dedent(inspect.getsource(models.SQSBackend.send_message))
    if moto.__version__ != EXPECTED_MOTO or source.count(NEEDLE) != 1:
        sys.exit(
            f"local/moto_server.py: written for moto {EXPECTED_MOTO}, found {moto.__version__} "
            "whose SQSBackend.send_message differs; update the patch or the pin"
        )
    namespace: dict = {}
    exec(compile(source.replace(NEEDLE, REPLACEMENT), models.__file__, "exec"), vars(models), namespace)
    models.SQSBackend.send_message = namespace["send_message"]


if __name__ == "__main__":
    patch_send_message()
    sys.exit(main(sys.argv[1:]))
