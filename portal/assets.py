"""Static assets under content-hashed names, cached for a year; every response compressed when it is worth it.

At start-up the static folder is read once into a manifest (``css/portal.css`` -> ``css/portal.1a2b3c4d5e6f.css``)
and each file is written once under its hashed name, with brotli and gzip copies, into ``instance/assets``.
WhiteNoise serves those names with ``Cache-Control: immutable`` for a year and picks the compressed copy from
``Accept-Encoding``; a changed file gets a new name, so a browser never keeps a stale one. Templates name assets
through ``asset(...)``. Flask-Compress compresses pages and fragments the same way (brotli, else gzip).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from flask import Flask, request, url_for
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from portal.fragments import BodyCachedCompress, BoundedCache, body_key

compress = BodyCachedCompress()
YEAR = 365 * 24 * 3600


def build_manifest(folder: str) -> dict[str, str]:
    """Map each file under ``folder`` (a path relative to it, with ``/``) to its name with a content hash."""
    manifest = {}
    root = Path(folder)
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        stem, dot, suffix = name.rpartition(".")
        manifest[name] = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
    return manifest


def write_hashed_copies(source: str, target: str, manifest: dict[str, str]) -> None:
    """Write each file under its hashed name, with its ``.br`` and ``.gz`` copies, unless already there.

    Every file lands by an atomic rename, so workers starting together never see a half-written one.
    """
    os.makedirs(target, exist_ok=True)
    compressor = Compressor(quiet=True)
    for name, hashed in manifest.items():
        final = os.path.join(target, hashed)
        if os.path.exists(final):
            continue
        os.makedirs(os.path.dirname(final), exist_ok=True)
        scratch = tempfile.mkdtemp(dir=target, prefix=".building-")
        try:
            staged = os.path.join(scratch, os.path.basename(hashed))
            shutil.copyfile(os.path.join(source, name), staged)
            variants = compressor.compress(staged) if compressor.should_compress(staged) else []
            for variant in variants:  # the compressed copies first: the plain file says "done"
                os.replace(variant, final + variant[len(staged) :])
            os.replace(staged, final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _nosniff(headers, path, url) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    """Build the manifest and the hashed copies, serve them with WhiteNoise, offer ``asset()``, compress pages."""
    # Brotli first for browsers that take it, gzip for the rest (Flask-Compress leaves bodies under 500 bytes).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    # An unchanged page is not compressed again (portal/fragments.py).
    app.config.setdefault("COMPRESS_CACHE_BACKEND", BoundedCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", body_key)
    compress.init_app(app)

    manifest = build_manifest(app.static_folder)
    built = os.path.join(app.instance_path, "assets")
    write_hashed_copies(app.static_folder, built, manifest)
    # Only hashed names are served from here (plain names fall through to Flask's static route, revalidated).
    whitenoise = WhiteNoise(app.wsgi_app, immutable_file_test=lambda path, url: True, add_headers_function=_nosniff)
    for hashed in manifest.values():
        whitenoise.add_file_to_dictionary(f"{app.static_url_path}/{hashed}", os.path.join(built, hashed))
    whitenoise.FOREVER = YEAR
    app.wsgi_app = whitenoise
    app.extensions["asset_manifest"] = manifest

    urls: dict[tuple[str, str], str] = {}

    @app.template_global()
    def asset(name: str) -> str:
        """The URL of a static file under its content-hashed name (built once per name and application root)."""
        key = (name, request.script_root)
        if key not in urls:
            urls[key] = url_for("static", filename=manifest[name])
        return urls[key]
