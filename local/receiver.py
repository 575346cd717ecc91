"""A webhook receiver for the sample subscription: answers 204 to every POST and appends each
one's webhook-id to a file, so a script can count the deliveries.

    python3 local/receiver.py HOST PORT FILE
"""

import http.server
import sys

host, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(log, "a") as f:
            f.write(self.headers.get("webhook-id", "") + "\n")
        self.send_response(204)
        self.end_headers()


http.server.ThreadingHTTPServer((host, port), Handler).serve_forever()
