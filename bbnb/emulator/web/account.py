"""account.bbnb.test: a login form and a profile page behind a cookie session.

The session cookie is signed with a key drawn from the seed, so the site keeps no
state: any emulator with the same seed accepts it (a persisted browser context
carries the login into the next session, as on a real site).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from bbnb.emulator.web.data import WebData
from bbnb.emulator.web.layout import Page, esc, not_found, page

__all__ = ["COOKIE", "account_page"]

COOKIE = "bbnb_session"


def _token(data: WebData, user: str) -> str:
    mac = hmac.new(data.session_key, user.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{user}.{mac}"


def _user(data: WebData, cookies: dict[str, str]) -> str | None:
    token = cookies.get(COOKIE, "")
    user = token.partition(".")[0]
    return user if user and hmac.compare_digest(token, _token(data, user)) else None


def _login_form(base: str, error: str = "") -> Page:
    message = f'<p class="error">{esc(error)}</p>' if error else ""
    body = (
        f"<h1>Sign in</h1>{message}"
        f'<form method="post" action="{base}/login">'
        '<label>Username <input name="username" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password"></label>'
        '<button type="submit">Sign in</button></form>'
    )
    return page(
        "Sign in | bbnb Account", body, base=base, site="account", status=401 if error else 200
    )


def _profile(data: WebData, base: str) -> Page:
    account = data.truth.account
    profile = account["profile"]
    facts = (
        f"<dt>Name</dt><dd>{esc(profile['name'])}</dd><dt>Email</dt><dd>{esc(profile['email'])}</dd>"
        f"<dt>Plan</dt><dd>{profile['plan']}</dd><dt>Member since</dt><dd>{profile['member_since']}</dd>"
        f"<dt>Loyalty points</dt><dd>{profile['loyalty_points']}</dd>"
    )
    rows = "".join(
        f"<tr><td>{o['order']}</td><td>{o['date']}</td><td>{esc(o['item'])}</td>"
        f"<td>{o['quantity']}</td><td>{o['total']:.2f}</td></tr>"
        for o in account["orders"]
    )
    body = (
        f'<h1>Your account</h1><dl class="profile">{facts}</dl><h2>Orders</h2>'
        '<table class="orders"><thead><tr><th>Order</th><th>Date</th><th>Item</th>'
        f"<th>Quantity</th><th>Total</th></tr></thead><tbody>{rows}</tbody></table>"
        f'<p><a href="{base}/logout">Sign out</a></p>'
    )
    return page("Your account | bbnb Account", body, base=base, site="account")


def account_page(
    data: WebData, base: str, method: str, path: str, cookies: dict[str, str], form: bytes
) -> Page:
    """The account site's answer to ``method path`` (``form``: the POSTed body)."""
    if path in ("", "/"):
        return Page(302, "", headers={"location": f"{base}/account"})
    if path == "/login" and method == "POST":
        fields = {k: v[0] for k, v in parse_qs(form.decode("utf-8", "replace")).items()}
        account = data.truth.account
        if fields.get("username") != account["username"] or not hmac.compare_digest(
            fields.get("password", ""), account["password"]
        ):
            return _login_form(base, "Wrong username or password.")
        cookie = f"{COOKIE}={_token(data, account['username'])}; Path=/; HttpOnly; SameSite=Lax"
        return Page(303, "", headers={"location": f"{base}/account", "set-cookie": cookie})
    if path == "/login":
        return _login_form(base)
    if path == "/logout":
        cookie = f"{COOKIE}=; Path=/; Max-Age=0"
        return Page(303, "", headers={"location": f"{base}/login", "set-cookie": cookie})
    if path == "/account":
        if _user(data, cookies) is None:
            return Page(302, "", headers={"location": f"{base}/login?next=/account"})
        return _profile(data, base)
    return not_found(path, base=base, site="account")
