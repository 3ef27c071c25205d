"""The whole application on one screen: the route table and the middleware stack.

Read top to bottom: ``ROUTES`` says which handler answers which request (it is
API.md in table form); ``create_app`` opens the data directory, builds the
services the handlers share, and wraps the router in its middleware:

    access_log → security_headers → cors → bearer → router → handler
"""

from __future__ import annotations

import dataclasses

from .accounts import handlers as accounts
from .accounts.passwords import HashGate, PasswordHasher
from .accounts.throttle import LoginThrottle, RegistrationThrottle
from .accounts.tokens import ACCESS, UPLOAD, TokenService, load_signing_key
from .config import Config
from .db import Database
from .files import downloads as files
from .files import archive, folders, listing, reconcile, resumable, trash, uploads
from .files.open_uploads import OpenUploads
from .files.storage import Storage
from .web import meta
from .web.early import BodyGate
from .web.middleware import access_log, bearer, cors, security_headers
from .web.routing import Route, Router
from .web.static import serve_public

SIGNED_IN = (ACCESS,)  # an access token from login
SIGNED_IN_OR_UPLOAD = (ACCESS, UPLOAD)  # or the token scoped to one resumable upload
TUS = resumable.TUS_HEADERS

ROUTES = [
    # accounts
    Route("POST", "/api/register", accounts.register, body="json", summary="Create an account."),
    Route("POST", "/api/login", accounts.login, body="json", summary="Exchange username and password for a token."),
    Route("GET", "/api/me", accounts.me, SIGNED_IN, summary="Who I am and how much I store."),
    Route("POST", "/api/logout", accounts.logout, SIGNED_IN, summary="Revoke this token."),
    Route("POST", "/api/password", accounts.change_password, SIGNED_IN, body="json",
          summary="Change the password; every earlier token and link dies."),
    Route("POST", "/api/token/refresh", accounts.refresh_token, SIGNED_IN, summary="A fresh token for this session."),
    # files
    Route("POST", "/api/files", uploads.upload_files, SIGNED_IN, body="multipart", summary="Upload files (multipart).",
          before_body=uploads.refuse_before_body),
    Route("POST", "/api/upload_binary", uploads.upload_binary, SIGNED_IN, body="multipart",
          summary="Upload files; the tutorial's path, with an optional filename rename.",
          before_body=uploads.refuse_before_body),
    Route("GET", "/api/files", listing.list_files, SIGNED_IN,
          summary="My files: by folder or all, searched, sorted, paged by offset or cursor."),
    Route("GET", "/api/files/{file_id}", files.download_file, SIGNED_IN,
          summary="A file's bytes (Range, ETag); ?inline=1 previews the safe types."),
    Route("PATCH", "/api/files/{file_id}", folders.update_file, SIGNED_IN, body="json",
          summary="Rename a file or move it to another folder."),
    Route("DELETE", "/api/files/{file_id}", trash.delete_file, SIGNED_IN, summary="Move a file to the trash."),
    Route("POST", "/api/files/{file_id}/link", files.create_link, SIGNED_IN, body="optional json",
          summary="A short-lived download (or, with inline, preview) link that needs no header."),
    Route("GET", "/api/files/{file_id}/download", files.download_by_link,
          summary="Download through a link (?token=…)."),
    # folders and the trash
    Route("POST", "/api/folders", folders.create_folder, SIGNED_IN, body="json", summary="Create a folder."),
    Route("GET", "/api/folders/{folder_id}", folders.show_folder, SIGNED_IN,
          summary="A folder (or root), its path from the top and its subfolders."),
    Route("PATCH", "/api/folders/{folder_id}", folders.update_folder, SIGNED_IN, body="json",
          summary="Rename a folder or move it, never into itself."),
    Route("DELETE", "/api/folders/{folder_id}", trash.delete_folder, SIGNED_IN,
          summary="Move a folder and everything in it to the trash."),
    Route("POST", "/api/archive", archive.create_archive, SIGNED_IN, body="json",
          summary="A short-lived link to a ZIP of chosen files and folders."),
    Route("GET", "/api/archive/{archive_id}", archive.download_archive,
          summary="The ZIP, streamed as it is built (?token=…)."),
    Route("GET", "/api/trash", trash.list_trash, SIGNED_IN, summary="What the trash holds, newest first."),
    Route("POST", "/api/trash/{kind}/{item_id}/restore", trash.restore_item, SIGNED_IN,
          summary="Put a trashed file or folder back where it was."),
    Route("DELETE", "/api/trash/{kind}/{item_id}", trash.purge_item, SIGNED_IN,
          summary="Delete a trashed file or folder for good."),
    Route("DELETE", "/api/trash", trash.empty_trash, SIGNED_IN, summary="Empty the trash."),
    # resumable uploads (tus 1.0); every answer carries Tus-Resumable, errors included
    Route("OPTIONS", "/api/uploads", resumable.describe_server, headers=TUS,
          summary="tus: versions, extensions, limits."),
    Route("GET", "/api/uploads", resumable.list_unfinished, SIGNED_IN,
          summary="My unfinished uploads, to resume or discard (not tus)."),
    Route("POST", "/api/uploads", resumable.create_upload, SIGNED_IN, body="optional chunk", headers=TUS,
          summary="tus: create an upload (Upload-Length, Upload-Metadata), optionally with its first bytes.",
          before_body=resumable.refuse_creation_before_body),
    Route("HEAD", "/api/uploads/{upload_id}", resumable.upload_offset, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: how many bytes are stored (Upload-Offset)."),
    Route("PATCH", "/api/uploads/{upload_id}", resumable.append_chunk, SIGNED_IN_OR_UPLOAD, body="chunk",
          headers=TUS, summary="tus: append bytes at Upload-Offset.", before_body=resumable.refuse_append_before_body),
    Route("DELETE", "/api/uploads/{upload_id}", resumable.cancel_upload, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: abandon an upload and release its space."),
    # the service itself
    Route("GET", "/api/health", meta.health, summary="Is the server up?"),
    Route("GET", "/api/config", accounts.client_settings,
          summary="The server's settings a client needs (limits, languages, registration mode)."),
    Route("GET", "/api/openapi.json", meta.openapi_document, summary="This API, described in OpenAPI 3.1."),
]


@dataclasses.dataclass
class Services:
    """What handlers share, reached as ``request.app``."""

    config: Config
    database: Database
    tokens: TokenService
    passwords: PasswordHasher
    registration_passwords: PasswordHasher  # its own gate: sign-ups never take the slots logins wait for
    throttle: LoginThrottle
    registrations: RegistrationThrottle
    storage: Storage
    uploads: OpenUploads
    routes: list


def create_app(config: Config):
    """Open (or create) the data directory and return the WSGI application."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: keys, hashes, files
    database = Database(config.data_dir / "authupload.db")
    storage = Storage(database, config)
    storage.clear_debris()
    uploads = OpenUploads(database, storage, config)
    alone = reconcile.hold_data_dir(config.data_dir)[1]  # held shared until the process ends
    if alone:  # no other process is mid-commit in this directory: safe to finish or undo what a crash left
        reconcile.reconcile(database, storage, uploads)
    uploads.remove_expired()
    services = Services(
        config=config,
        database=database,
        tokens=TokenService(load_signing_key(config.secret, config.data_dir), database, config.clock),
        passwords=PasswordHasher(config.bcrypt_cost, HashGate(config.hash_concurrency, config.hash_queue_limit)),
        registration_passwords=PasswordHasher(config.bcrypt_cost, HashGate(1, config.hash_queue_limit)),
        throttle=LoginThrottle(database, config),
        registrations=RegistrationThrottle(database, config),
        storage=storage,
        uploads=uploads,
        routes=ROUTES,
    )
    trash.purge_expired(services)
    router = Router(ROUTES, services, fallback=serve_public)
    app = bearer(router, services.tokens)
    app = cors(app, config.cors_origins, config.cors_max_age_seconds)
    app = security_headers(app)
    app = access_log(app)
    app.services = services  # for tests and serve.py: the same objects the handlers use
    app.body_gate = BodyGate(router, services.tokens)  # server.py asks it before reading a body
    return app
