"""中文消息 (Telegram HTML)."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "welcome": (
        "{name}，你好！这里是实验室 GPU 租用服务台。\n\n"
        "租用带整块 GPU 的容器：选择镜像、GPU 数量和套餐，管理员批准后我会发给你地址、端口和密码。\n\n"
        "/request — 租用 GPU\n/my — 我的租用\n/bill — 我的账单\n/help — 帮助"
    ),
    "welcome_admin": "你是管理员：新申请的审批卡片会发送给你。",
    "help": (
        "<b>使用方法</b>\n"
        "1. 发送 /request 并回答几个问题（镜像、GPU、套餐、用途）。\n"
        "2. 管理员批准后，容器会在空闲的 GPU 服务器上启动。\n"
        "3. 我会发送 SSH 命令、密码和 Jupyter 链接。\n"
        "所有数据请放在 <code>/workspace</code> 下：重启后依然保留。\n\n"
        "/cancel 取消当前对话。"
    ),
    "cmd_start": "开始并显示菜单",
    "cmd_request": "租用 GPU",
    "cmd_my": "我的租用",
    "cmd_bill": "我的账单",
    "cmd_help": "帮助",
    "cmd_cancel": "取消当前操作",
    "cmd_pending": "待审批的申请",
    "cmd_hosts": "服务器与 GPU",
    "btn_request": "租用 GPU",
    "blocked": "你的账号已被停用，请联系实验室管理员。",
    "error_generic": "抱歉，系统出了点问题，已通知管理员。",
    "admin_alert": "⚠️ 处理消息时出错：<code>{error}</code>",
    "not_admin": "只有实验室管理员可以执行此操作。",
    "unknown_command": "我不认识这个命令。发送 /help 查看可用命令。",
}
