"""The whole application on one screen: the route table and the middleware stack.

Read top to bottom: ``ROUTES`` says which handler answers which request (it is
API.md in table form); ``create_app`` opens the data directory, builds the
services the handlers share, and wraps the router in its middleware:

    access_log → security_headers → cors → bearer → router → handler
"""

from __future__ import annotations

import dataclasses

from .accounts import handlers as accounts
from .accounts import security_handlers as security
from .accounts.audit import remove_old_events
from .admin import handlers as admin
from .accounts.passwords import HashGate, PasswordHasher, registration_gate
from .accounts.throttle import LoginThrottle, RegistrationThrottle
from .accounts.tokens import ACCESS, DROP, UPLOAD, TokenService, load_signing_key
from .config import Config
from .db import Database
from .files import downloads as files
from .files import archive, folders, listing, reconcile, resumable, trash, uploads
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
    Route("POST", "/api/logout", accounts.logout, SIGNED_IN,
          summary="End this session: its tokens, refreshed ones included, are refused."),
    Route("POST", "/api/password", accounts.change_password, SIGNED_IN, body="json",
          summary="Change the password; every earlier token and link dies."),
    Route("POST", "/api/token/refresh", accounts.refresh_token, SIGNED_IN, summary="A fresh token for this session."),
    # account security: two-factor sign-in, sessions, activity
    Route("POST", "/api/login/totp", security.login_totp, body="json",
          summary="The second login step: mfa_token and a code (or a recovery code)."),
    Route("POST", "/api/totp/setup", security.totp_setup, SIGNED_IN, body="json",
          summary="A new TOTP secret and its otpauth:// URI, behind the password; not on yet."),
    Route("POST", "/api/totp/enable", security.totp_enable, SIGNED_IN, body="json",
          summary="Turn two-factor sign-in on with a first code; ten recovery codes, shown once."),
    Route("POST", "/api/totp/disable", security.totp_disable, SIGNED_IN, body="json",
          summary="Turn two-factor sign-in off (password and a code)."),
    Route("POST", "/api/totp/recovery-codes", security.totp_recovery_codes, SIGNED_IN, body="json",
          summary="Ten new recovery codes (password and a code); the old ones die."),
    Route("GET", "/api/sessions", security.list_sessions, SIGNED_IN, summary="Where I am signed in."),
    Route("DELETE", "/api/sessions", security.end_other_sessions, SIGNED_IN,
          summary="End every session but this one."),
    Route("DELETE", "/api/sessions/{session_id}", security.end_session, SIGNED_IN,
          summary="End one of my sessions; its tokens are refused at once."),
    Route("GET", "/api/activity", security.activity, SIGNED_IN, summary="My account's audit events, newest first."),
    # files
    Route("POST", "/api/files", uploads.upload_files, SIGNED_IN_OR_DROP, body="multipart",
          summary="Upload files (multipart).",
          before_body=uploads.refuse_before_body,
          receive_body=uploads.receive_files_as_they_arrive),
    Route("POST", "/api/upload_binary", uploads.upload_binary, SIGNED_IN, body="multipart",
          summary="Upload files; the tutorial's path, with an optional filename rename.",
          before_body=uploads.refuse_before_body,
          receive_body=uploads.receive_binary_as_it_arrives),
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
          summary="The ZIP, sent straight from the stored files (?token=…)."),
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
    Route("POST", "/api/uploads", resumable.create_upload, SIGNED_IN_OR_DROP, body="optional chunk", headers=TUS,
          summary="tus: create an upload (Upload-Length, Upload-Metadata), optionally with its first bytes.",
          before_body=resumable.refuse_creation_before_body),
    Route("HEAD", "/api/uploads/{upload_id}", resumable.upload_offset, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: how many bytes are stored (Upload-Offset)."),
    Route("PATCH", "/api/uploads/{upload_id}", resumable.append_chunk, SIGNED_IN_OR_UPLOAD, body="chunk",
          headers=TUS, summary="tus: append bytes at Upload-Offset.", before_body=resumable.refuse_append_before_body,
          receive_body=resumable.receive_as_it_arrives),
    Route("DELETE", "/api/uploads/{upload_id}", resumable.cancel_upload, SIGNED_IN_OR_UPLOAD, headers=TUS,
          summary="tus: abandon an upload and release its space."),
    # operators: accounts, invites and the audit log (each handler checks the caller is an admin)
    Route("GET", "/api/admin/users", admin.list_users, SIGNED_IN, summary="Accounts by name, with usage (admin)."),
    Route("POST", "/api/admin/users", admin.create_user, SIGNED_IN, body="json",
          summary="Create an account, in any registration mode (admin)."),
    Route("PATCH", "/api/admin/users/{user_id}", admin.change_user, SIGNED_IN, body="json",
          summary="Change an account's role, disabled flag or quota (admin)."),
    Route("DELETE", "/api/admin/users/{user_id}", admin.delete_user, SIGNED_IN,
          summary="Delete an account and everything it owns (admin)."),
    Route("POST", "/api/admin/users/{user_id}/password", admin.reset_password, SIGNED_IN, body="json",
          summary="Set an account's password; its sessions end (admin)."),
    Route("GET", "/api/admin/invites", admin.list_invites, SIGNED_IN, summary="Invites, live ones first (admin)."),
    Route("POST", "/api/admin/invites", admin.create_invite, SIGNED_IN, body="json",
          summary="Create an invite code and its register link (admin)."),
    Route("DELETE", "/api/admin/invites/{invite_id}", admin.revoke_invite, SIGNED_IN,
          summary="Revoke an invite (admin)."),
    Route("GET", "/api/admin/events", admin.list_events, SIGNED_IN,
          summary="The audit log, newest first, by account and type (admin)."),
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
          summary="Every file of a share in one ZIP."),
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
    # Held shared until the process ends; True if alone here after a stop that was not clean.
    serving_lock, needs_reconciling = reconcile.hold_data_dir(config.data_dir)
    if needs_reconciling:
        reconcile.reconcile(database, storage, uploads)
    uploads.remove_expired()
    signing_key = load_signing_key(config.secret, config.data_dir)
    sweep_old_events(database, config)
    services = Services(
        config=config,
        database=database,
        tokens=TokenService(signing_key, database, config.clock),
        passwords=PasswordHasher(config.bcrypt_cost, HashGate(config.hash_concurrency, config.hash_queue_limit)),
        registration_passwords=PasswordHasher(config.bcrypt_cost,
                                              registration_gate(config.hash_concurrency, config.hash_queue_limit)),
        throttle=LoginThrottle(database, config),
        registrations=RegistrationThrottle(database, config),
        storage=storage,
        uploads=uploads,
        links=LinkTokens(signing_key),
        link_throttle=public.link_throttle(database, config),
        drops=Drops(database, config.clock),
        routes=ROUTES,
    )
    trash.purge_expired(services)
    router = Router(ROUTES, services, fallback=serve_page)
    app = bearer(router, services.tokens)
    app = cors(app, config.cors_origins, config.cors_max_age_seconds)
    app = security_headers(app)
    app = access_log(app)
    app.services = services  # for tests and serve.py: the same objects the handlers use
    app.body_gate = BodyGate(router, services.tokens)  # server.py asks it before reading a body
    app.serving_lock = serving_lock  # server.py marks a clean stop on it
    return app


def sweep_old_events(database: Database, config: Config) -> None:
    """Forget audit events older than ``--event-retention-days`` (at start and in each housekeeping sweep)."""
    with database.transaction() as connection:
        remove_old_events(connection, config.clock(), config.event_retention_days * 24 * 3600)
