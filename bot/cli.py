"""The ``gpurent`` command: ``run`` the bot, or ``check`` a configuration and its hosts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.config import Config, ConfigError, load_config, parse_config
from bot.logsafe import describe, install, mask, redact_everywhere

logger = logging.getLogger("gpurent")


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else parse_config({}, "<built-in defaults>")
    if getattr(args, "admin", None):
        from dataclasses import replace

        telegram = replace(config.telegram, admins=tuple(args.admin))
        config = replace(config, telegram=telegram)
    return config


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_bot

    config = _load(args)
    token = config.bot_token()
    redact_everywhere(token)
    run_bot(config, token)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.check import check_config

    config = _load(args)
    lines, ok = asyncio.run(check_config(config))
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_health(args: argparse.Namespace) -> int:
    import socket

    from bot.clock import SystemClock
    from bot.health import check_health

    ok, line = check_health(_load(args), SystemClock().now(), socket.gethostname())
    print(line)
    return 0 if ok else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpurent", description="GPU rental desk bot for Telegram")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    for name, fn, text in (("run", cmd_run, "run the bot"),
                           ("check", cmd_check, "check the config and reach every host"),
                           ("health", cmd_health, "exit 0 when this machine's bot is alive")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--config", "-c", help="TOML file (default: built-in defaults)")
        cmd.add_argument("--admin", type=int, action="append",
                         help="Telegram user id of an admin (repeatable; overrides the config)")
        cmd.set_defaults(func=fn)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install()  # from the first line on: tracebacks are masked too
    # httpx logs every request URL, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return _guarded(args)


def _guarded(args: argparse.Namespace) -> int:
    """Every failure ends as one plain line on stderr and a non-zero status, never as a
    traceback that could carry the token; unexpected ones are logged (masked) for debugging."""
    from telegram.error import InvalidToken

    try:
        return int(args.func(args))
    except ConfigError as exc:
        _say(str(exc))
        return 2
    except InvalidToken as exc:
        _say(f"Telegram rejected the bot token ({describe(exc, 120)}): check the environment "
             "variable or file named by [telegram] token_env / token_file (see @BotFather)")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logger.debug("gpurent stopped by an error", exc_info=True)
        _say(f"stopped by an error: {describe(exc)}")
        return 1


def _say(line: str) -> None:
    print(f"gpurent: {mask(line)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
