"""English messages (Telegram HTML)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "welcome": (
        "Hello {name}! I am the lab's GPU rental desk.\n\n"
        "Rent a container with whole GPUs: pick an image, the GPU count and a plan; an admin "
        "approves and I send you the address, ports and password.\n\n"
        "/request — rent GPUs\n/my — your rentals\n/bill — your bill\n/help — help"
    ),
    "welcome_admin": "You are an admin: approval cards for new requests come to you.",
    "help": (
        "<b>How it works</b>\n"
        "1. /request and answer a few questions (image, GPUs, plan, purpose).\n"
        "2. An admin approves; your container starts on a free GPU server.\n"
        "3. I send the SSH command, the password and the Jupyter link.\n"
        "Keep all your data under <code>/workspace</code>: it survives restarts.\n\n"
        "/cancel stops the current dialogue."
    ),
    "cmd_start": "Start and show the menu",
    "cmd_request": "Rent GPUs",
    "cmd_my": "My rentals",
    "cmd_bill": "My bill",
    "cmd_help": "Help",
    "cmd_cancel": "Cancel the current step",
    "cmd_pending": "Requests waiting for approval",
    "cmd_hosts": "Hosts and GPUs",
    "btn_request": "Rent GPUs",
    "blocked": "Your account is blocked. Please contact the lab admin.",
    "error_generic": "Sorry, something went wrong on our side. The admins have been told.",
    "admin_alert": "⚠️ Error while handling an update: <code>{error}</code>",
    "not_admin": "Only lab admins can do that.",
    "unknown_command": "I don't know that command. /help lists what I can do.",
}
