"""A minimal libgit2 (pygit2) command line for the foreign-client suite (test/interop).

    version
    clone <url> <dir> [--bare]
    fetch <dir>
    push <dir> <refspec>...        ("+src:dst" forces, ":dst" deletes)

Prints "ok" on success; on failure prints the error and exits 1.
"""
import sys

import pygit2


class PushResult(pygit2.RemoteCallbacks):
    """Collects the server's per-ref answers: libgit2 reports a refused ref only here."""

    def __init__(self):
        super().__init__()
        self.rejected = []

    def push_update_reference(self, refname, message):
        if message is not None:
            self.rejected.append(f"{refname}: {message}")


def main(args):
    cmd = args[0]
    if cmd == "version":
        print(f"pygit2 {pygit2.__version__}, libgit2 {pygit2.LIBGIT2_VERSION}")
        return
    if cmd == "clone":
        pygit2.clone_repository(args[1], args[2], bare="--bare" in args[3:])
    elif cmd == "fetch":
        pygit2.Repository(args[1]).remotes["origin"].fetch()
    elif cmd == "push":
        callbacks = PushResult()
        pygit2.Repository(args[1]).remotes["origin"].push(args[2:], callbacks=callbacks)
        if callbacks.rejected:
            raise RuntimeError("rejected: " + "; ".join(callbacks.rejected))
    else:
        raise ValueError(f"unknown command {cmd}")
    print("ok")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as e:  # the message is what the suite compares
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
