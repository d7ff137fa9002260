"""The pages' Jinja environment: autoescaped templates, gettext from the catalogs, locale-aware filters."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from inventory.web import i18n

TEMPLATES = Path(__file__).parent / "templates"


def environment() -> Environment:
    """Templates under web/templates, with `_`/`gettext`/`ngettext` and the date, time and number filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    env.filters["number"] = i18n.format_number
    env.filters["quantity"] = i18n.format_quantity
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template support on our environment."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
