"""Finish chalice's zips as Lambda runs them: the templates beside app.py, bytecode in every zip.

Templates: they change with the code, so they travel in the function's zip (next to app.py,
where chalicelib/pages.py looks). Shipped through vendor/, chalice would put them in the
dependency layer, and every change of a page would deploy the 20 MB layer again.

Bytecode: Lambda's /var/task and /opt are read-only, so without it every cold start
compiles every module again (about 1.3 s instead of 0.4 s to import). The .pyc files are
"unchecked-hash": Python uses them without comparing timestamps, which the zip (all entries
dated 1980) could not match anyway. Compile with the same Python minor version as the
Lambda runtime (`chalice package` picks the local one).

Every entry is written with the same date and order, so an unchanged layer rebuilds to the
same bytes and `aws cloudformation package` does not upload it again.

Usage: python infra/precompile.py out/deployment.zip [out/layer-deployment.zip]
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
FUNCTION_ZIP = "deployment.zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_LAMBDA_ROOT, _LAYER_ROOT = "/var/task", "/opt"


def precompile(zip_path: Path) -> int:
    """Rewrite the zip with a __pycache__ beside every module; returns how many were compiled.

    The function's zip also gets the templates.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(root)
        if zip_path.name == FUNCTION_ZIP:
            shutil.copytree(TEMPLATES, root / "templates", dirs_exist_ok=True)
        compileall.compile_dir(
            root,
            # Where Lambda unzips it, as the path inside the bytecode: tracebacks name real files,
            # and the bytes do not depend on this scratch folder's random name.
            ddir=_LAMBDA_ROOT if zip_path.name == FUNCTION_ZIP else _LAYER_ROOT,
            quiet=2,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        files = sorted(path for path in root.rglob("*") if path.is_file())
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), _EPOCH)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes())
        rebuilt.replace(zip_path)
        return sum(1 for path in files if path.suffix == ".pyc")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {precompile(Path(name))} modules compiled")
