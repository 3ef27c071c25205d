"""The command line for the operator at the machine: ``python -m authupload users|invites …``.

It works on the same data directory and settings as ``serve.py`` (``--data-dir``
and the ``AUTHUPLOAD_*`` variables), and it may run while the server does: both
open the one SQLite database, whose write lock serializes their changes, and the
server reads an account's state on every request, so an account disabled here
is locked out of the running server at its very next request.

What it changes goes through the same functions as the admin API
(``admin/users.py``, ``accounts/invites.py``) and is written to the audit log
with actor ``cli``. Errors are one line on standard error and exit status 1;
a usage mistake (an unknown option, a bad SIZE or duration) is exit status 2,
as argparse does. Passwords are asked twice without echo, or read from standard
input with ``--password-stdin``; never taken as an argument, where ``ps`` and the
shell's history would show them.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import re
import sys

from . import i18n
from .accounts.audit import CLI, record_event
from .accounts.invites import create_invite, invite_json, list_invites, revoke_invite
from .accounts.passwords import HashGate, PasswordHasher
from .accounts.tokens import load_signing_key
from .admin import users
from .admin.handlers import DEFAULT_INVITE_SECONDS, INVITE_LIFETIME_SECONDS, INVITE_USES
from .config import Config
from .db import Database
from .web.http import HTTPError

OPERATOR = users.Operator(CLI)
SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class CommandError(Exception):
    """A one-line reason to stop with exit status 1."""


@dataclasses.dataclass
class Box:
    """What the commands share: the settings, the database, password hashing and the signing key."""

    config: Config
    database: Database
    passwords: PasswordHasher
    key: bytes

    @property
    def base_url(self) -> str:
        return self.config.public_url.rstrip("/") or f"http://{self.config.host}:{self.config.port}"


# --- argument types: a bad value is a usage mistake (exit 2) -------------------------------


def size(text: str) -> int:
    """``123``, ``500M``, ``10G``: bytes, in powers of 1024."""
    found = re.fullmatch(r"(\d{1,16})([kmgt]?)i?b?", text.strip().lower())
    if not found or int(found[1]) * SIZE_UNITS[found[2]] > users.MAX_QUOTA_BYTES:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 123, 500M, 10G; at most 1024T)")
    return int(found[1]) * SIZE_UNITS[found[2]]


def quota(text: str) -> int | None:
    """A SIZE, or ``default`` for the server's own quota."""
    return None if text.strip().lower() == "default" else size(text)


def duration(text: str) -> int:
    """``45m``, ``12h``, ``7d``: seconds."""
    found = re.fullmatch(r"(\d{1,9})([smhd])", text.strip().lower())
    if not found:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (examples: 45m, 12h, 7d)")
    return int(found[1]) * DURATION_UNITS[found[2]]


def invite_lifetime(text: str) -> int:
    """A duration within an invite's bounds: 1 s to 90 days."""
    seconds = duration(text)
    if not INVITE_LIFETIME_SECONDS[0] <= seconds <= INVITE_LIFETIME_SECONDS[1]:
        raise argparse.ArgumentTypeError(f"an invite lasts 1s to 90d, not {text!r}")
    return seconds


def uses(text: str) -> int:
    if not (text.isascii() and text.isdigit() and INVITE_USES[0] <= int(text) <= INVITE_USES[1]):
        raise argparse.ArgumentTypeError(f"uses must be {INVITE_USES[0]}–{INVITE_USES[1]}, not {text!r}")
    return int(text)


# --- opening the data directory ------------------------------------------------------------


def open_box(data_dir: str | None) -> Box:
    """The data directory serve.py uses; an error if it is missing (never created here)."""
    config = Config.from_sources(["--data-dir", data_dir] if data_dir else [])
    database_path = config.data_dir / "authupload.db"
    if not database_path.is_file():
        raise CommandError(f"no authupload data in {config.data_dir.resolve()}: start serve.py with that "
                           "--data-dir once, or name the right one with --data-dir (or AUTHUPLOAD_DATA_DIR)")
    try:
        database = Database(database_path)
    except RuntimeError as error:  # a schema newer than this code: never write to it
        raise CommandError(f"{error}: upgrade authupload first") from None
    hasher = PasswordHasher(config.bcrypt_cost, HashGate(1, 0))
    return Box(config, database, hasher, load_signing_key(config.secret, config.data_dir))


def new_password(args) -> str:
    """The password from standard input (one line), or asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ; nothing was changed")
    return first


def show(args, value: dict, text: str) -> None:
    print(json.dumps(value, ensure_ascii=False) if args.json else text)


def human_bytes(count: float) -> str:
    """``1536`` → ``1.5 KiB``: sizes for people, in powers of 1024."""
    unit = "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if count < 1024:
            break
        count, unit = count / 1024, bigger
    return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"


# --- the commands ---------------------------------------------------------------------------


def users_list(box: Box, args) -> None:
    rows, total = users.list_users(box.database.connection(), "", -1, 0)
    found = [users.user_json(row, box.config.quota_bytes) for row in rows]
    lines = [f"{'ID':>6}  {'NAME':<32}  {'ROLE':<5}  {'STATE':<8}  {'FILES':>7}  {'STORED':>10}  {'QUOTA':>10}  "
             "LAST LOGIN"]
    for user in found:
        lines.append(
            f"{user['id']:>6}  {user['username']:<32}  {'admin' if user['admin'] else 'user':<5}  "
            f"{'disabled' if user['disabled'] else 'enabled':<8}  {user['usage']['files']:>7}  "
            f"{human_bytes(user['usage']['bytes']):>10}  {human_bytes(user['usage']['quota_bytes']):>10}  "
            f"{user['last_login_at'] or 'never'}")
    show(args, {"users": found, "total": total}, "\n".join(lines))


def users_add(box: Box, args) -> None:
    password = new_password(args)
    row = users.create_user(box, args.name, password, args.admin, args.quota, OPERATOR)
    show(args, users.user_json(row, box.config.quota_bytes),
         f"created {'admin' if row['admin'] else 'user'} {row['username']} (id {row['id']})")


def users_set(box: Box, args) -> None:
    changes = {name: getattr(args, name) for name in ("admin", "disabled") if getattr(args, name) is not None}
    if args.quota is not False:
        changes["quota_bytes"] = args.quota
    if args.no_totp:
        changes["totp"] = False
    if not changes:
        raise CommandError("nothing to change: give --admin, --no-admin, --quota, --disable, --enable or --no-totp")
    user = users.find_user_by_name(box.database.connection(), args.name)
    row = users.change_user(box, user["id"], changes, OPERATOR)
    show(args, users.user_json(row, box.config.quota_bytes), f"changed {row['username']}: "
         + ", ".join(f"{name}={'default' if value is None else value}" for name, value in changes.items()))


def users_password(box: Box, args) -> None:
    user = users.find_user_by_name(box.database.connection(), args.name)
    password = new_password(args)
    users.reset_password(box, user["id"], password, OPERATOR)
    show(args, {"id": user["id"], "username": user["username"]},
         f"password of {user['username']} set; its sessions have ended")


def users_delete(box: Box, args) -> None:
    user = users.find_user_by_name(box.database.connection(), args.name)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CommandError("not deleting without --yes when standard input is not a terminal")
        answer = input(f"Delete {user['username']} and all {user['file_count']} files? Type the name to confirm: ")
        if answer != user["username"]:
            raise CommandError("the name typed does not match; nothing was deleted")
    users.delete_user(box, user["id"], OPERATOR)
    show(args, {"id": user["id"], "username": user["username"]},
         f"deleted {user['username']} and everything it stored")


def invites_create(box: Box, args) -> None:
    now = box.config.clock()
    with box.database.transaction() as connection:
        row = create_invite(connection, now, args.uses, args.expires, args.quota, CLI)
        record_event(connection, now, "invite_created", user_id=None, actor=CLI,
                     detail={"invite_id": row["id"], "uses": args.uses, "expires_in": args.expires,
                             "quota_bytes": args.quota})
    invite = invite_json(row, box.key, box.base_url)
    show(args, invite, f"invite {invite['id']}: code {invite['code']}\n{invite['url']}\n"
         f"{invite['uses_left']} use(s), until {invite['expires_at']}")


def invites_list(box: Box, args) -> None:
    now = box.config.clock()
    found = [invite_json(row, box.key, box.base_url) for row in list_invites(box.database.connection(), now)]
    lines = [f"{'ID':>5}  {'USES':>4}  {'EXPIRES':<20}  {'QUOTA':>10}  CODE"]
    for invite in found:
        limit = "default" if invite["quota_bytes"] is None else human_bytes(invite["quota_bytes"])
        lines.append(f"{invite['id']:>5}  {invite['uses_left']:>4}  {invite['expires_at']:<20}  {limit:>10}  "
                     f"{invite['code']}")
    show(args, {"invites": found}, "\n".join(lines))


def invites_revoke(box: Box, args) -> None:
    with box.database.transaction() as connection:
        revoke_invite(connection, args.id)
        record_event(connection, box.config.clock(), "invite_revoked", user_id=None, actor=CLI,
                     detail={"invite_id": args.id})
    show(args, {"id": args.id}, f"invite {args.id} revoked")


# --- the parser -------------------------------------------------------------------------------


COMMANDS = """commands:
  users list [--json]
  users add NAME [--admin] [--quota SIZE] [--password-stdin]
  users set NAME [--admin|--no-admin] [--quota SIZE|default] [--disable|--enable] [--no-totp]
  users password NAME [--password-stdin]
  users delete NAME [--yes]
  invites create [--uses N] [--expires 7d] [--quota SIZE]
  invites list [--json]
  invites revoke ID

Every command takes --data-dir DIR (default: AUTHUPLOAD_DATA_DIR, else ./data) and
--json; other settings come from AUTHUPLOAD_* variables, as for serve.py.
SIZE: 123, 500M, 10G (powers of 1024). DURATION: 45m, 12h, 7d.
Passwords are asked twice without echo, or read from standard input.
Errors are one line on standard error with exit status 1; usage mistakes exit 2.
Every change is written to the audit log with actor "cli".
"""


def argument_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="the data directory serve.py uses (default: AUTHUPLOAD_DATA_DIR, else ./data)")
    common.add_argument("--json", action="store_true", help="print JSON, for scripts")
    parser = argparse.ArgumentParser(
        prog="python -m authupload", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Manage the accounts and invites of an authupload box, even while serve.py runs.",
        epilog=COMMANDS)
    parser.add_argument("--data-dir", help="the data directory serve.py uses")
    areas = parser.add_subparsers(dest="area", required=True, metavar="{users,invites}")

    users_parser = areas.add_parser("users", help="list, add, change, reset or delete accounts")
    user_commands = users_parser.add_subparsers(dest="command", required=True)
    listing = user_commands.add_parser("list", parents=[common], help="every account, with its usage")
    listing.set_defaults(run=users_list)
    add = user_commands.add_parser("add", parents=[common], help="create an account (any registration mode)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="make it an admin")
    add.add_argument("--quota", type=size, metavar="SIZE", help="its own quota (default: the server's)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(run=users_add)
    change = user_commands.add_parser("set", parents=[common], help="change role, quota or state")
    change.add_argument("name")
    role = change.add_mutually_exclusive_group()
    role.add_argument("--admin", dest="admin", action="store_const", const=True, help="make it an admin")
    role.add_argument("--no-admin", dest="admin", action="store_const", const=False, help="make it a plain user")
    change.add_argument("--quota", type=quota, default=False, metavar="SIZE|default",
                        help="its own quota, or default for the server's")
    state = change.add_mutually_exclusive_group()
    state.add_argument("--disable", dest="disabled", action="store_const", const=True,
                       help="lock it out: no login, every token refused at once")
    state.add_argument("--enable", dest="disabled", action="store_const", const=False, help="let it log in again")
    change.add_argument("--no-totp", action="store_true", help="remove a lost second factor")
    change.set_defaults(run=users_set)
    password = user_commands.add_parser("password", parents=[common], help="set a password; sessions end")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password.set_defaults(run=users_password)
    delete = user_commands.add_parser("delete", parents=[common], help="delete an account and all it stores")
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(run=users_delete)

    invites_parser = areas.add_parser("invites", help="create, list or revoke invite codes")
    invite_commands = invites_parser.add_subparsers(dest="command", required=True)
    create = invite_commands.add_parser("create", parents=[common], help="a new code and its register link")
    create.add_argument("--uses", type=uses, default=1, metavar="N",
                        help="registrations it allows (1–1000, default 1)")
    create.add_argument("--expires", type=invite_lifetime, default=DEFAULT_INVITE_SECONDS, metavar="DURATION",
                        help="how long it works (default 7d, at most 90d)")
    create.add_argument("--quota", type=size, metavar="SIZE", help="quota of the accounts it creates")
    create.set_defaults(run=invites_create)
    listing = invite_commands.add_parser("list", parents=[common], help="every invite, live ones first")
    listing.set_defaults(run=invites_list)
    revoke = invite_commands.add_parser("revoke", parents=[common], help="make a code stop working")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=invites_revoke)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser()
    args = parser.parse_args(argv)
    try:
        box = open_box(args.data_dir or os.environ.get("AUTHUPLOAD_DATA_DIR"))
        args.run(box, args)
    except HTTPError as refusal:  # a rule of the shared account code, said as the API would say it
        print(f"error: {i18n.message(refusal.key, i18n.ENGLISH, refusal.field, **refusal.values)}", file=sys.stderr)
        return 1
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
