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
from .accounts.tokens import ACCESS, DROP, UPLOAD, TokenService, load_signing_key
from .config import Config
from .db import Database
from .files import downloads as files
from .files import resumable, uploads
from .files.open_uploads import OpenUploads
from .files.storage import Storage
from .sharing import drops, public, shares
from .sharing import requests as upload_requests
from .sharing.drops import Drops
from .sharing.links import LinkTokens
from .sharing.pages import serve_page
from .web import meta
from .web.early import BodyGate
from .web.middleware import access_log, bearer, cors, security_headers
from .web.routing import Route, Router

SIGNED_IN = (ACCESS,)  # an access token from login
SIGNED_IN_OR_UPLOAD = (ACCESS, UPLOAD)  # or the token scoped to one resumable upload
SIGNED_IN_OR_DROP = (ACCESS, DROP)  # or a sender's token from an upload request's link
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
    Route("POST", "/api/files", uploads.upload_files, SIGNED_IN_OR_DROP, body="multipart",
          summary="Upload files (multipart).",
          before_body=uploads.refuse_before_body),
    Route("POST", "/api/upload_binary", uploads.upload_binary, SIGNED_IN, body="multipart",
          summary="Upload files; the tutorial's path, with an optional filename rename.",
          before_body=uploads.refuse_before_body),
    Route("GET", "/api/files", files.list_files, SIGNED_IN, summary="My files, newest first."),
    Route("GET", "/api/files/{file_id}", files.download_file, SIGNED_IN, summary="A file's bytes (Range, ETag)."),
    Route("DELETE", "/api/files/{file_id}", files.delete_file, SIGNED_IN, summary="Delete a file."),
    Route("POST", "/api/files/{file_id}/link", files.create_link, SIGNED_IN,
          summary="A short-lived download link that needs no header."),
    Route("GET", "/api/files/{file_id}/download", files.download_by_link,
          summary="Download through a link (?token=…)."),
    # resumable uploads (tus 1.0); every answer carries Tus-Resumable, errors included
    Route("OPTIONS", "/api/uploads", resumable.describe_server, headers=TUS,
          summary="tus: versions, extensions, limits."),
    Route("GET", "/api/uploads", resumable.list_unfinished, SIGNED_IN,
          summary="My unfinished uploads, to resume or discard (not tus)."),
    Route("POST", "/api/uploads", resumable.create_upload, SIGNED_IN_OR_DROP, body="optional chunk", headers=TUS,
          summary="tus: create an upload (Upload-Length, Upload-Metadata), optionally with its first bytes.",
          before_body=resumable.refuse_creation_before_body),
    Route("HEAD", "/api/uploads/{upload_id}", resumable.upload_offset, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: how many bytes are stored (Upload-Offset)."),
    Route("PATCH", "/api/uploads/{upload_id}", resumable.append_chunk, SIGNED_IN_OR_UPLOAD, body="chunk",
          headers=TUS, summary="tus: append bytes at Upload-Offset.", before_body=resumable.refuse_append_before_body),
    Route("DELETE", "/api/uploads/{upload_id}", resumable.cancel_upload, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: abandon an upload and release its space."),
    # sharing: links out (shares) and in (upload requests), and their public side
    Route("POST", "/api/shares", shares.create_share, SIGNED_IN, body="json",
          summary="Share some of my files through a link."),
    Route("GET", "/api/shares", shares.list_shares, SIGNED_IN, summary="My shares, newest first."),
    Route("DELETE", "/api/shares/{share_id}", shares.revoke_share, SIGNED_IN, summary="Revoke a share."),
    Route("POST", "/api/requests", upload_requests.create_request, SIGNED_IN, body="json",
          summary="A link through which somebody can send me files."),
    Route("GET", "/api/requests", upload_requests.list_requests, SIGNED_IN, summary="My upload requests."),
    Route("DELETE", "/api/requests/{request_id}", upload_requests.close_request, SIGNED_IN,
          summary="Close an upload request; what it received stays."),
    Route("GET", "/api/public/shares/{token}", public.share_info, summary="A share, as its visitor sees it."),
    Route("POST", "/api/public/shares/{token}/unlock", public.unlock_share, body="json",
          summary="A share's password for a one-hour access string."),
    Route("GET", "/api/public/shares/{token}/files/{file_id}", public.download_shared_file,
          summary="A shared file's bytes (Range, ETag)."),
    Route("GET", "/api/public/shares/{token}/zip", public.download_share_zip,
          summary="Every file of a share in one ZIP, streamed."),
    Route("GET", "/api/public/requests/{token}", drops.request_info,
          summary="An upload request, as its sender sees it."),
    Route("POST", "/api/public/requests/{token}/session", drops.start_session, body="json",
          summary="A sender's one-hour drop token for uploading."),
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
    links: LinkTokens
    link_throttle: LoginThrottle
    drops: Drops
    routes: list


def create_app(config: Config):
    """Open (or create) the data directory and return the WSGI application."""
    config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: keys, hashes, files
    database = Database(config.data_dir / "authupload.db")
    storage = Storage(database, config)
    storage.clear_debris()
    uploads = OpenUploads(database, storage, config)
    uploads.remove_expired()
    signing_key = load_signing_key(config.secret, config.data_dir)
    services = Services(
        config=config,
        database=database,
        tokens=TokenService(signing_key, database, config.clock),
        passwords=PasswordHasher(config.bcrypt_cost, HashGate(config.hash_concurrency, config.hash_queue_limit)),
        registration_passwords=PasswordHasher(config.bcrypt_cost, HashGate(1, config.hash_queue_limit)),
        throttle=LoginThrottle(database, config),
        registrations=RegistrationThrottle(database, config),
        storage=storage,
        uploads=uploads,
        links=LinkTokens(signing_key),
        link_throttle=public.link_throttle(database, config),
        drops=Drops(database, config.clock),
        routes=ROUTES,
    )
    router = Router(ROUTES, services, fallback=serve_page)
    app = bearer(router, services.tokens)
    app = cors(app, config.cors_origins, config.cors_max_age_seconds)
    app = security_headers(app)
    app = access_log(app)
    app.services = services  # for tests and serve.py: the same objects the handlers use
    app.body_gate = BodyGate(router, services.tokens)  # server.py asks it before reading a body
    return app
