"""Users (admin): the list, a new user, a role change, deactivating and reactivating, a password reset.

Each POST calls one service of `services.auth` and goes back to the list with a message, or shows the list again
with the refusal next to the control it concerns (nothing written). Deactivating a user or resetting their password
ends their sign-ins at once: the service moves their `tokens_valid_after`, which every cookie and token is checked
against.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inventory.domain.errors import Conflict, InventoryError, Unprocessable
from inventory.domain.models import ROLES
from inventory.services import auth
from inventory.web.forms import Fields, refusal_message
from inventory.web.i18n import N_, gettext
from inventory.web.pages import ROLE_NAMES, admin_page, current_user, read_form, redirect, render, settings_of

LIST = "/ui/users"
# The service's longest password is 128 characters; a longer one gets its own message from the service.
_PASSWORD_FIELD_LENGTH = 1024
# Wordings of this page that say more than the shared ones.
_MESSAGES = {
    "duplicate": N_("A user with this e-mail address already exists."),
    "email": N_("Enter a valid e-mail address (for example name@clinic.fr), without spaces."),
}


def _message(error: InventoryError, field: str) -> str:
    """The refusal's sentence on this page, in the page's language."""
    if error.code == "duplicate":
        return gettext(_MESSAGES["duplicate"])
    if error.code == "validation_error" and field == "email":
        return gettext(_MESSAGES["email"])
    return refusal_message(error)


async def _raw_password(request: Request[Any, Any, Any]) -> str:
    """The password exactly as typed: spaces around it are part of it (read_form trims every field)."""
    value = (await request.form()).get("password")
    return value if isinstance(value, str) else ""


async def _list(
    request: Request[Any, Any, Any],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    opened: int | None = None,
) -> Template:
    """The list of users with the new-user form; `errors` by field (`email`…, or `role-<id>`, `active-<id>`…)."""
    me = await current_user(request)
    return await render(
        request,
        "users/list.html",
        status=status,
        users=await auth.list_users(),
        me_id=me.actor.id,
        roles=ROLES,
        errors=errors or {},
        typed={"email": "", "full_name": "", "role": "staff", **(typed or {})},
        opened=opened,
        timezone=settings_of(request).timezone,
    )


@get("/users", guards=[admin_page], include_in_schema=False, security=[])
async def users_page(request: Request[Any, Any, Any]) -> Template:
    """Every user with their role and status, and the form for a new one."""
    return await _list(request)


@post("/users", guards=[admin_page], include_in_schema=False, security=[], status_code=303)
async def create_user(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Create a user who can sign in at once with the initial password."""
    fields = Fields(await read_form(request))
    email = fields.text("email", max_length=254)
    full_name = fields.text("full_name", required=False, max_length=200) or ""
    role = fields.choice("role", ROLES)
    fields.text("password", max_length=_PASSWORD_FIELD_LENGTH)
    typed = {"email": fields.raw("email"), "full_name": fields.raw("full_name"), "role": fields.raw("role")}
    if fields.errors or email is None or role is None:
        return await _list(request, status=422, errors=fields.errors, typed=typed)
    me = await current_user(request)
    try:
        user = await auth.create_user(
            actor=me.actor, email=email, role=role, password=await _raw_password(request), full_name=full_name
        )
    except (Unprocessable, Conflict) as error:
        field = _create_field(error)
        return await _list(request, status=error.status, errors={field: _message(error, field)}, typed=typed)
    return redirect(
        request,
        LIST,
        flash=gettext("%(email)s can now sign in with the initial password.") % {"email": user.email},
    )


def _create_field(error: InventoryError) -> str:
    """The new-user form's field a refusal belongs to."""
    if error.code.startswith("password_"):
        return "password"
    if error.code == "duplicate" or error.extra.get("field") == "email":
        return "email"
    return "role" if error.code == "validation_error" else "email"


@post("/users/{user_id:int}/role", guards=[admin_page], include_in_schema=False, security=[], status_code=303)
async def change_role(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect | Template:
    """Give a user another role."""
    fields = Fields(await read_form(request))
    role = fields.choice("role", ROLES)
    if role is None:
        return await _list(request, status=422, errors={f"role-{user_id}": fields.errors["role"]})
    me = await current_user(request)
    try:
        user = await auth.update_user(actor=me.actor, user_id=user_id, role=role, active=None)
    except Conflict as error:
        return await _list(request, status=error.status, errors={f"role-{user_id}": refusal_message(error)})
    message = gettext("%(email)s now has the role %(role)s.")
    return redirect(request, LIST, flash=message % {"email": user.email, "role": gettext(ROLE_NAMES[role])})


async def _set_active(request: Request[Any, Any, Any], user_id: int, *, active: bool) -> Redirect | Template:
    await read_form(request)
    me = await current_user(request)
    try:
        user = await auth.update_user(actor=me.actor, user_id=user_id, role=None, active=active)
    except Conflict as error:
        return await _list(request, status=error.status, errors={f"active-{user_id}": refusal_message(error)})
    message = (
        gettext("%(email)s can sign in again.")
        if active
        else gettext("%(email)s is deactivated: their sign-ins ended at once.")
    )
    return redirect(request, LIST, flash=message % {"email": user.email})


@post("/users/{user_id:int}/deactivate", guards=[admin_page], include_in_schema=False, security=[], status_code=303)
async def deactivate(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect | Template:
    """Stop a user from signing in; their open pages and bearer tokens stop working at once."""
    return await _set_active(request, user_id, active=False)


@post("/users/{user_id:int}/reactivate", guards=[admin_page], include_in_schema=False, security=[], status_code=303)
async def reactivate(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect | Template:
    """Let a deactivated user sign in again (with their password; old sign-ins stay ended)."""
    return await _set_active(request, user_id, active=True)


@post("/users/{user_id:int}/password", guards=[admin_page], include_in_schema=False, security=[], status_code=303)
async def reset_password(request: Request[Any, Any, Any], user_id: FromPath[int]) -> Redirect | Template:
    """Set a new password for a user (same rules as a new user's); their sign-ins end."""
    fields = Fields(await read_form(request))
    field = f"password-{user_id}"
    if fields.text("password", max_length=_PASSWORD_FIELD_LENGTH) is None:
        return await _list(request, status=422, errors={field: fields.errors["password"]}, opened=user_id)
    me = await current_user(request)
    try:
        await auth.reset_password(actor=me.actor, user_id=user_id, password=await _raw_password(request))
    except Unprocessable as error:
        return await _list(request, status=error.status, errors={field: refusal_message(error)}, opened=user_id)
    return redirect(request, LIST, flash=gettext("The new password is set; the user's sign-ins have ended."))


HANDLERS: list[Any] = [users_page, create_user, change_role, deactivate, reactivate, reset_password]
