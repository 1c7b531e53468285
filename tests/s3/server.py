"""The S3-compatible server of the team store's end-to-end tests: moto's, with its
conditional writes made atomic, as S3's are.

LanceDB commits a table version on S3 by writing the version's manifest with
`If-None-Match: *`: of two writers racing for the same version, S3 lets exactly one create
it and answers the other 412, and the loser retries on top of the winner's version. moto
(5.2.1) checks that the key does not exist and then writes it, in two steps, on a threaded
server: two concurrent puts of one key can both pass the check and both be told they created
it. Measured on 127.0.0.1: 2 of 3,000 keys, each put by 8 threads at once, were created by
more than one put. A commit lost that way is an acknowledged write missing from the bucket,
which the team test counts ("1,001 entries for 1,002 acknowledged writes", seen once in CI).
The lock below makes the check and the write one step, for simple puts and for completed
multipart uploads, the two ways moto honours `If-None-Match`.

Usage: python3 server.py [moto.server's arguments]
"""

import threading

import moto.server
from moto.s3.responses import S3Response

_WRITES = threading.Lock()


def _atomic(method):
    def write(self, *args, **kwargs):
        with _WRITES:
            return method(self, *args, **kwargs)

    return write


# An AttributeError here (a moto whose methods moved) stops the server before any test runs.
S3Response.put_object = _atomic(S3Response.put_object)
S3Response._key_response_post = _atomic(S3Response._key_response_post)

if __name__ == "__main__":
    moto.server.main()
