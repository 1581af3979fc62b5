"""A minimal dulwich command line for the foreign-client suite (test/interop).

    version
    clone <url> <dir> [--bare] [--depth N]
    fetch <dir>
    push <dir> [--force] <refspec>...   ("+src:dst" forces, ":dst" deletes)

Prints "ok" on success; on failure prints the error and exits 1.
"""
import io
import sys

import dulwich
from dulwich import porcelain
from dulwich.repo import Repo


def main(args):
    cmd = args[0]
    # dulwich writes progress here; the suite only wants the outcome.
    quiet = {"errstream": io.BytesIO()}
    if cmd == "version":
        print("dulwich " + ".".join(str(n) for n in dulwich.__version__))
        return
    if cmd == "clone":
        opts = args[3:]
        depth = int(opts[opts.index("--depth") + 1]) if "--depth" in opts else None
        porcelain.clone(args[1], args[2], bare="--bare" in opts, depth=depth, **quiet).close()
    elif cmd == "fetch":
        with Repo(args[1]) as repo:
            porcelain.fetch(repo, "origin", outstream=io.StringIO(), errstream=io.BytesIO())
    elif cmd == "push":
        specs = [a for a in args[2:] if a != "--force"]
        with Repo(args[1]) as repo:
            porcelain.push(repo, "origin", [s.encode() for s in specs], force="--force" in args[2:], outstream=io.BytesIO(), **quiet)
    else:
        raise ValueError(f"unknown command {cmd}")
    print("ok")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as e:  # the message is what the suite compares
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
