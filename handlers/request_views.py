"""What each step of /request shows, and how a tap or a typed answer changes the draft."""

from __future__ import annotations

from datetime import datetime

from billing.money import format_money, format_per_hour
from bot import callbacks as cb
from bot.config import Config
from bot.errors import UserError
from bot.i18n import esc, t
from bot.ports import Button, Keyboard
from bot.services import Services
from bot.usecases import request as uc
from models.tables import Rental

IMAGE, CUSTOM, GPUS, UNIT, QUANTITY, PURPOSE, PORTS, SUMMARY = range(8)
BACK = {CUSTOM: IMAGE, GPUS: IMAGE, UNIT: GPUS, QUANTITY: UNIT, PURPOSE: QUANTITY,
        PORTS: PURPOSE, SUMMARY: PORTS}
STEPS = {"img": IMAGE, "custom": CUSTOM, "gpu": GPUS, "unit": UNIT, "qty": QUANTITY,
         "purpose": PURPOSE, "ports": PORTS, "sum": SUMMARY}
NAMES = {v: k for k, v in STEPS.items()}
BACK_MARK, CONFIRM_MARK = -1, -2
QUICK_QUANTITY = {"hour": (1, 2, 4, 8, 12, 24), "day": (1, 2, 3, 5, 7, 14),
                  "week": (1, 2, 3, 4), "month": (1, 2, 3, 6)}


_tap = cb.REQUEST_STEP.button  # a button of the dialogue: its text, the step, the value


def state_of(step: str) -> int:
    return STEPS.get(step, IMAGE)


def nav(lang: str, state: int) -> list[Button]:
    row = [cb.REQUEST_CANCEL.button(t(lang, "btn_cancel"))]
    if state != IMAGE:
        row.insert(0, _tap(t(lang, "btn_back"), "back", NAMES[state]))
    return row


def step(svc: Services, lang: str, state: int, d: uc.Draft) -> tuple[str, Keyboard]:
    config = svc.config
    rows: Keyboard = []
    if state == IMAGE:
        rows = [[_tap(i.name, "img", i.key)] for i in config.images]
        rows.append([_tap(t(lang, "btn_custom_image"), "img", "custom")])
    elif state == GPUS:
        rows = [[_tap(t(lang, "gpus_n", n=n), "gpu", n) for n in uc.gpu_choices(config)]]
    elif state == UNIT:
        rows = [[_tap(_plan_label(config, lang, d.gpus, p.unit), "unit", p.unit)]
                for p in config.prices.plans_for(d.gpus)]
    elif state == QUANTITY:
        limit = config.rental.max_quantity.get(d.unit, 1)
        quick = [q for q in QUICK_QUANTITY.get(d.unit, (1,)) if q <= limit]
        rows = [[_tap(str(q), "qty", q) for q in quick]]
    elif state == PORTS:
        rows = [[_tap(t(lang, "btn_no_ports"), "ports", "none")]]
    elif state == SUMMARY:
        rows = [[_tap(t(lang, "btn_confirm"), "ok", "")],
                [_tap(t(lang, "btn_edit"), "edit", "")]]
    rows.append(nav(lang, state))
    if state == SUMMARY:
        return summary_text(config, lang, d, svc.clock.now()), rows
    return question(config, lang, state, d), rows


def _plan_label(config: Config, lang: str, gpus: int, unit: str) -> str:
    plan = config.prices.plan(gpus, unit)
    return f"{t(lang, f'unit_{unit}')} · {format_money(plan.price)}"


def question(config: Config, lang: str, state: int, d: uc.Draft) -> str:
    if state == QUANTITY:
        return t(lang, "ask_quantity", unit=t(lang, f"unit_{d.unit}"),
                 limit=config.rental.max_quantity.get(d.unit, 1))
    if state == PORTS:
        return t(lang, "ask_ports", limit=config.rental.max_extra_ports)
    return t(lang, {IMAGE: "ask_image", CUSTOM: "ask_custom", GPUS: "ask_gpus",
                    UNIT: "ask_unit", PURPOSE: "ask_purpose"}[state])


def summary_text(config: Config, lang: str, d: uc.Draft, now: datetime) -> str:
    q, better = uc.price(config, d)
    ends = config.lab_time(now + q.duration)
    text = t(lang, "summary", image=esc(d.image_ref), gpus=d.gpus, ends=ends,
             plan=t(lang, f"unit_{d.unit}_n", n=d.quantity), total=format_money(q.total),
             per_hour=format_per_hour(q.per_hour), purpose=esc(d.purpose),
             ports=", ".join(map(str, d.extra_ports)) or "—")
    if better is not None:
        text += "\n\n" + t(lang, "summary_hint", combo=better.describe(lang),
                           total=format_money(better.total))
    return text


def ready(d: uc.Draft, state: int) -> bool:
    """Whether the draft holds every answer asked before ``state``. A button of an older
    message of the dialogue (or a forged one) can jump ahead; the step it leads to would show
    a plan for no GPUs or price a rental of no length."""
    needs = [bool(d.image_ref), d.gpus > 0, bool(d.unit), d.quantity > 0, bool(d.purpose)]
    before = {GPUS: 1, UNIT: 2, QUANTITY: 3, PURPOSE: 4, PORTS: 5, SUMMARY: 5}
    return all(needs[:before.get(state, 0)])


def apply_button(config: Config, d: uc.Draft, step_name: str, value: str) -> int:
    if step_name == "back":
        return BACK_MARK
    if step_name == "ok":
        return CONFIRM_MARK
    if step_name == "edit":
        return IMAGE
    if step_name == "img":
        return _choose_image(config, d, value)
    if step_name == "gpu":
        d.gpus = _gpu_choice(config, value)
        return UNIT
    if step_name == "unit":
        if value not in {p.unit for p in config.prices.plans_for(d.gpus)}:
            raise UserError("req_unit_bad")
        d.unit = value
        return QUANTITY
    if step_name == "qty":
        d.quantity = uc.check_quantity(config, d.unit, value)
        return PURPOSE
    if step_name == "ports":
        d.extra_ports = []
        return SUMMARY
    raise UserError("req_stale")


def _gpu_choice(config: Config, value: str) -> int:
    """Button data is compared with what the buttons carried: a forged "²" or "１" is no count."""
    offered = {str(n): n for n in uc.gpu_choices(config)}
    if value not in offered:
        raise UserError("req_gpus_bad")
    return offered[value]


def _choose_image(config: Config, d: uc.Draft, key: str) -> int:
    if key == "custom":
        return CUSTOM
    image = config.image(key)
    if image is None:
        raise UserError("req_stale")
    d.image_key, d.image_ref, d.custom = image.key, image.ref, False
    return GPUS


def apply_text(config: Config, d: uc.Draft, state: int, text: str) -> int:
    if state == CUSTOM:
        d.image_ref, d.image_key, d.custom = uc.check_custom_image(config, text), "custom", True
        return GPUS
    if state == QUANTITY:
        d.quantity = uc.check_quantity(config, d.unit, text)
        return PURPOSE
    if state == PURPOSE:
        d.purpose = uc.check_purpose(text)
        return PORTS
    if state == PORTS:
        d.extra_ports = uc.check_ports(config, text)
        return SUMMARY
    raise UserError("req_use_buttons")


def submitted_text(lang: str, rental: Rental) -> str:
    return t(lang, "req_submitted", ref=rental.ref)


def cancelled_text(lang: str) -> str:
    return t(lang, "req_cancelled")
