"""`python FILE [ARGS...]`: runs a Python script from the workspace, as CPython's `python` would.

Built into a WASI command (`wasi:cli/command`) with componentize-py by `scripts/build-python`:
CPython and the standard library modules imported below, in one component. `run` gives it the
workspace as `/`, so `FILE` and what the script opens are workspace paths.
"""

import runpy
import sys
import traceback

# The standard library a script may import. componentize-py bundles the modules the app
# imports, so each one a script should find is imported here.
import abc, argparse, base64, bisect, collections, contextlib, copy, csv, dataclasses  # noqa: E401,F401
import datetime, decimal, difflib, enum, fnmatch, fractions, functools, glob, hashlib  # noqa: E401,F401
import heapq, io, itertools, json, math, operator, os, pathlib, pkgutil, pprint, random  # noqa: E401,F401
import re, shutil, statistics, string, struct, tempfile, textwrap, time, typing, unittest  # noqa: E401,F401
import uuid  # noqa: F401

from componentize_py_types import Err
from wit_world import exports


class Run(exports.Run):
    """`wasi:cli/run`: the script's exit status is the command's."""

    def run(self) -> None:
        if len(sys.argv) < 2:
            print("usage: python FILE [ARGS...]", file=sys.stderr)
            raise Err(None)
        sys.argv = sys.argv[1:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
        try:
            runpy.run_path(sys.argv[0], run_name="__main__")
        except SystemExit as e:
            if e.code is None or e.code == 0:
                return
            if not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
            raise Err(None)
        except BaseException:
            traceback.print_exc()
            raise Err(None)
