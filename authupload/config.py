"""Every setting of authupload, in one frozen dataclass.

Each limit is defined here once, named with its unit, with a one-line reason.
A setting comes, in order of precedence, from a command-line flag, from an
``AUTHUPLOAD_<NAME>`` environment variable, or from the default below; the
defaults serve a private upload box on a laptop.

``Config.from_sources(argv, environ)`` reads flags and environment; tests build
``Config(data_dir=tmp_path, bcrypt_cost=4, ...)`` directly. ``clock`` is the one
source of "now" for every time-based rule, so tests can move time instead of
sleeping.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Callable

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MULTIPART_FRAMING_BYTES = 1 * MIB  # room for boundaries and part headers around a multipart body's files


def setting(default, help_text: str, choices: tuple[str, ...] | None = None):
    """A config field with its default and the one-line reason shown by --help."""
    return dataclasses.field(default=default, metadata={"help": help_text, "choices": choices})


REGISTRATION_MODES = ("open", "invite", "closed")

# How the bcrypt queue is sized (hash_queue_limit): the longest a person should wait
# for a login answer before "busy, retry later" serves them better, over the time one
# hash takes per core. 0.25 s: bcrypt at cost 12 on one core of the 2-core machine the
# benchmarks ran on (README "Performance", raw bcrypt.checkpw); benchmarks/login.py
# prints the figure of the machine it runs on.
CORES = os.cpu_count() or 2
LOGIN_WAIT_BUDGET_SECONDS = 10
HASH_SECONDS = 0.25
HASH_QUEUE_LIMIT = int(LOGIN_WAIT_BUDGET_SECONDS / (HASH_SECONDS / CORES))


@dataclasses.dataclass(frozen=True)
class Config:
    # --- where and how to serve -------------------------------------------
    host: str = setting(
        "127.0.0.1", "Interface to listen on; loopback by default so a laptop does not publish it."
    )
    port: int = setting(8080, "TCP port to listen on.")
    data_dir: Path = setting(
        Path("data"), "Database, signing key and stored files; nothing is written outside it."
    )
    threads: int = setting(
        8, "waitress worker threads for requests other than those waiting for bcrypt"
        " (every place of the bcrypt gates gets a thread of its own on top)."
    )
    public_dir: Path = setting(
        Path(__file__).resolve().parent.parent / "public", "The browser pages and their assets."
    )
    trusted_proxy: str = setting(
        "", "Address of a reverse proxy whose X-Forwarded-For is believed; empty: none."
    )
    public_url: str = setting(
        "", "Address people reach the box at (https://files.example.org), for share and invite links;"
        " empty: the request's own scheme and host."
    )

    # --- accounts ---------------------------------------------------------
    registration: str = setting(
        "open", "Who may create an account: anyone (open), people with an invite code (invite),"
        " or only an admin (closed).", choices=REGISTRATION_MODES
    )
    max_registrations_per_address: int = setting(
        10, "Registrations one client address may make in an hour: a flood cannot crowd out logins."
    )
    bcrypt_cost: int = setting(
        12, "bcrypt work factor: each +1 doubles the time of a hash (12 ≈ 0.3 s here)."
    )
    password_min_chars: int = setting(
        8, "Shortest password accepted at registration (OWASP ASVS 6.2.1; the tutorial used 6)."
    )
    password_max_chars: int = setting(
        1024, "Longest password: long enough for passphrases, short enough to bound hashing work."
    )
    hash_concurrency: int = setting(
        CORES, "bcrypt calls running at once: more than the cores only adds waiting."
    )
    hash_queue_limit: int = setting(
        HASH_QUEUE_LIMIT,
        "Logins allowed to wait for a bcrypt slot (registrations, hashed one at a time: this"
        " ÷ --hash-concurrency, for the same wait), each in a thread of its own"
        " added to --threads (so health checks and downloads keep theirs); beyond it 503 with"
        f" Retry-After. Sized by a latency budget: waiting {LOGIN_WAIT_BUDGET_SECONDS} s at most,"
        f" at {HASH_SECONDS} s per cost-12 hash shared by {CORES} cores, is"
        f" {LOGIN_WAIT_BUDGET_SECONDS} ÷ ({HASH_SECONDS} ÷ {CORES}) = {HASH_QUEUE_LIMIT} places:"
        " a burst of 16 people is served, a flood of 100 is not queued for minutes."
    )

    # --- tokens -----------------------------------------------------------
    token_ttl_seconds: int = setting(
        30 * 60, "Lifetime of an access token; a page refreshes it before it runs out."
    )
    session_max_seconds: int = setting(
        7 * 24 * 3600, "A refresh is refused once this long has passed since the password login."
    )
    link_ttl_seconds: int = setting(
        5 * 60, "Lifetime of a download link (a URL that works without the Authorization header)."
    )
    secret: str = setting(
        "", "HS256 signing key; empty: a random key kept in <data_dir>/secret.key (0600)."
    )

    # --- failed-login throttling -----------------------------------------
    login_window_seconds: int = setting(15 * 60, "How far back failed logins are counted.")
    login_lock_seconds: int = setting(
        15 * 60, "How long a username or an address stays locked once over its limit."
    )
    max_failures_per_username: int = setting(
        10, "Failures for one username (any letter case) within the window before it locks."
    )
    max_failures_per_address: int = setting(
        50, "Failures from one client address within the window before it locks."
    )

    # --- uploads ----------------------------------------------------------
    max_file_bytes: int = setting(1 * GIB, "Largest single file.")
    quota_bytes: int = setting(
        10 * GIB, "Bytes one user may store, open resumable uploads included."
    )
    max_json_bytes: int = setting(64 * KIB, "Largest JSON request body.")
    max_parts_per_upload: int = setting(
        1000, "Multipart parts in one request: bounds the work a crafted body can cause."
    )
    upload_expiry_seconds: int = setting(
        24 * 3600, "An unfinished resumable upload is deleted this long after it was created."
    )
    read_chunk_bytes: int = setting(
        1 * MIB, "Bytes read from a body or a file at once: fast, yet memory stays flat."
    )
    min_free_disk_bytes: int = setting(
        64 * MIB, "Uploads are refused (507) rather than fill the disk below this."
    )
    max_files_per_user: int = setting(
        100_000, "Files one user may keep: empty files cost rows and inodes that the quota does not count."
    )
    max_folders_per_user: int = setting(
        10_000, "Folders one user may keep, the trash included: each is a row that tree walks and listings visit."
    )
    max_open_uploads_per_user: int = setting(
        100, "Unfinished resumable uploads one user may hold at once."
    )
    trash_days: int = setting(
        30, "Deleted files stay restorable in the trash this many days; 0 deletes at once."
    )

    # --- sharing ------------------------------------------------------------
    share_max_seconds: int = setting(
        30 * 24 * 3600, "Longest lifetime of a share link."
    )
    request_max_seconds: int = setting(
        30 * 24 * 3600, "Longest lifetime of an upload-request link."
    )

    # --- the audit log ------------------------------------------------------
    event_retention_days: int = setting(
        90, "Audit-log events older than this many days are removed."
    )

    # --- HTTP -------------------------------------------------------------
    max_connections_per_address: int = setting(
        64, "Connections one client address may hold open (a household behind one NAT address shares it)."
    )
    header_timeout_seconds: int = setting(
        10, "A request's headers must arrive within this; a client trickling them is cut off."
    )
    idle_timeout_seconds: int = setting(
        30, "A connection that sends nothing for this long is closed."
    )
    cors_origins: tuple[str, ...] = setting(
        ("*",), "Browser origins allowed to call the API; '*' is safe: auth is a header, not a cookie."
    )
    cors_max_age_seconds: int = setting(600, "How long a browser may cache a preflight answer.")

    clock: Callable[[], float] = setting(
        time.time, "Current time in seconds since the epoch (tests pass a clock they can move)."
    )

    @property
    def max_request_bytes(self) -> int:
        """The largest request body the server reads at all.

        One file at the size limit plus room for multipart framing. waitress
        refuses bigger bodies before the application runs (see server.py).
        """
        return self.max_file_bytes + MULTIPART_FRAMING_BYTES

    @classmethod
    def from_sources(cls, argv: list[str] | None = None, environ=os.environ) -> "Config":
        """Build a Config from command-line flags, then AUTHUPLOAD_* variables, then defaults."""
        parser = argument_parser()
        args = parser.parse_args(argv)
        values = {}
        for field in _settable_fields():
            flag_value = getattr(args, field.name)
            env_value = environ.get("AUTHUPLOAD_" + field.name.upper())
            if flag_value is not None:
                values[field.name] = flag_value
            elif env_value is not None:
                try:
                    values[field.name] = _convert(field, env_value)
                except ValueError:
                    parser.error(f"AUTHUPLOAD_{field.name.upper()}: not a valid value: {env_value!r}")
        return cls(**values)


def _settable_fields():
    return [f for f in dataclasses.fields(Config) if f.name not in ("clock", "public_dir")]


def _convert(field: dataclasses.Field, text: str):
    default = field.default
    choices = field.metadata["choices"]
    if choices and text not in choices:
        raise ValueError(f"not one of {', '.join(choices)}")
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, Path):
        return Path(text)
    if isinstance(default, tuple):
        return _comma_list(text)
    return text


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def argument_parser() -> argparse.ArgumentParser:
    """The flags of serve.py: one per setting, documented from the field's text."""
    parser = argparse.ArgumentParser(
        prog="serve.py",
        description="authupload: registration, login and authenticated file upload.",
        epilog="Every flag can also be set as an environment variable, "
        "e.g. --max-file-bytes as AUTHUPLOAD_MAX_FILE_BYTES.",
    )
    for field in _settable_fields():
        flag = "--" + field.name.replace("_", "-")
        default = field.default
        help_text = f"{field.metadata['help']} (default: {_show(default)})".replace("%", "%%")
        if isinstance(default, tuple):
            parser.add_argument(flag, type=_comma_list, help=help_text + "; comma-separated")
        elif field.metadata["choices"]:
            parser.add_argument(flag, choices=field.metadata["choices"], help=help_text)
        else:
            parser.add_argument(flag, type=type(default), help=help_text)
    return parser


def _show(value) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, str) and not value:
        return "none"
    return str(value)
