"""Add Python bytecode to Lambda zips: `python3.12 plugins/bytecode.py [--keep-sources DIR]... <zip>...`
(run by plugins/bytecode.js, with the runtime's Python version).

Lambda's function directory is read-only, so a zip without bytecode compiles every module it
imports at every cold start. Every module is compiled in unchecked-hash mode: the runtime loads
the bytecode without comparing it with the source (zip timestamps are not the sources').

- Modules under a --keep-sources directory (the service's own code) keep their .py, and get
  __pycache__/<name>.cpython-312.pyc beside it: tracebacks show their source lines.
- Every other module (the installed requirements) ships as bytecode only (<name>.pyc in place of
  <name>.py, which Python imports as is): with sources and bytecode both, the zips would pass
  their 1 MiB budget. Their tracebacks keep file names and line numbers.

Bytecode already in the zip (a developer's __pycache__) is dropped first.
"""

from __future__ import annotations

import argparse
import importlib.util
import py_compile
import sys
import tempfile
import zipfile
from pathlib import Path

TASK_ROOT = "/var/task"  # where Lambda unpacks the zip: the path tracebacks show


def add_bytecode(archive: Path, keep_sources: tuple[str, ...], compiled_before: dict) -> tuple[int, int]:
    """Rewrite the zip with bytecode. `compiled_before` (path, source -> bytecode) spares compiling
    the same requirements again for each function's zip."""
    with zipfile.ZipFile(archive) as source:
        entries = [(info, source.read(info)) for info in source.infolist()
                   if "__pycache__/" not in info.filename and not info.filename.endswith((".pyc", ".pyo"))]
    kept = sourceless = 0
    with tempfile.TemporaryDirectory() as directory, \
            zipfile.ZipFile(archive.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info, data in entries:
            if not info.filename.endswith(".py"):
                target.writestr(info, data)
                continue
            own = info.filename.startswith(keep_sources)
            if own:
                target.writestr(info, data)
                name = importlib.util.cache_from_source(info.filename)
                kept += 1
            else:
                name = info.filename + "c"
                sourceless += 1
            key = (info.filename, data)
            if key not in compiled_before:
                path = Path(directory) / info.filename
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                compiled = Path(directory) / "compiled.pyc"
                py_compile.compile(str(path), cfile=str(compiled), dfile=f"{TASK_ROOT}/{info.filename}",
                                   doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                compiled_before[key] = compiled.read_bytes()
            pyc = zipfile.ZipInfo(name, date_time=info.date_time)
            pyc.external_attr = info.external_attr
            pyc.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(pyc, compiled_before[key])
    archive.with_suffix(".tmp").replace(archive)
    return kept, sourceless


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep-sources", action="append", default=[], metavar="DIR")
    parser.add_argument("zips", nargs="+", type=Path)
    args = parser.parse_args(argv)
    keep = tuple(directory.rstrip("/") + "/" for directory in args.keep_sources)
    compiled: dict = {}
    for archive in args.zips:
        kept, sourceless = add_bytecode(archive, keep, compiled)
        print(f"{archive.name}: {kept} modules with source and bytecode, {sourceless} as bytecode only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
