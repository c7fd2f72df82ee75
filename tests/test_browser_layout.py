"""Every page at a phone's, a tablet's, a laptop's and a wide screen's width, with long names, long
addresses, revoked and expired links: nothing scrolls sideways, no button is cut, axe-core finds no
serious or critical accessibility problem, and each page is photographed
(tests/screenshots/layout/<page>-<width>.png)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from conftest import SCREENSHOTS, Api, shared_file, signed_in
from playwright.sync_api import expect
from test_browser_sign_in import _sign_in
from test_folders_and_history import _file_in, _folder

WIDTHS = (390, 768, 1280, 1440)
ADMIN = "administrator.of-everything-and-more@handover-team-with-a-long-name.example"
PARTNER = "maximiliana.van-den-berghe-oosterhuis@a-rather-long-partner-domain.example"
PARTNER_NAME = "Maximiliana Gwendolyn van den Berghe-Oosterhuis"
LONG = "Quarterly report for the regional board meeting with all partners, final draft (revised)"

# What the page must hold to, as the browser measures it: the page no wider than the window, and
# every visible button inside the window and inside any box that would clip or scroll it.
MEASURE = """() => {
  const doc = document.documentElement;
  const problems = [];
  if (doc.scrollWidth > doc.clientWidth) problems.push(`the page is ${doc.scrollWidth}px wide in ${doc.clientWidth}px`);
  const controls = document.querySelectorAll("button, .button, .icon-button, [role=button], input[type=submit]");
  for (const control of controls) {
    if (control.closest("dialog:not([open])") || !control.checkVisibility({ visibilityProperty: true })) continue;
    const box = control.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const name = (control.getAttribute("aria-label") || control.textContent).trim().replace(/\\s+/g, " ");
    if (box.left < -0.5 || box.right > doc.clientWidth + 0.5) problems.push(`“${name}” is outside the window`);
    if (control.scrollWidth > control.clientWidth + 1) problems.push(`“${name}” is wider than its button`);
    for (let outer = control.parentElement; outer && outer !== document.body; outer = outer.parentElement) {
      const style = getComputedStyle(outer);
      if (style.overflowX === "visible" && style.overflowY === "visible") continue;
      const frame = outer.getBoundingClientRect();
      const inside = box.left >= frame.left - 0.5 && box.right <= frame.right + 0.5;
      if (!inside || box.top < frame.top - 0.5 || box.bottom > frame.bottom + 0.5) {
        problems.push(`“${name}” is cut by its ${outer.tagName.toLowerCase()}.${outer.className}`);
        break;
      }
    }
  }
  return problems;
}"""


def _signed_in_context(chromium, served: str, start: str, email: str):
    context = chromium.new_context(base_url=served, viewport={"width": WIDTHS[-1], "height": 900})
    page = context.new_page()
    page.goto(start)
    _sign_in(page, email)
    page.wait_for_load_state()
    return page


def _world(stack, client, served: str) -> dict[str, str]:
    """A member who is an admin and a partner, both with long addresses; files and links of every kind."""
    admin = Api(client, signed_in(stack, ADMIN, groups=("members", "admins")))
    signed_in(stack, PARTNER, groups=())
    cognito = stack.client("cognito-idp")
    name = [{"Name": "name", "Value": PARTNER_NAME}]
    cognito.admin_update_user_attributes(UserPoolId=stack.user_pool_id, Username=PARTNER, UserAttributes=name)
    file, _ = shared_file(admin, name=f"{LONG}.pdf")
    links = f"/api/files/{file['file_id']}/links"
    soon = datetime.now(UTC) + timedelta(seconds=3)
    assert admin.call("POST", links, {"valid_until": soon.isoformat()}).status_code == 201
    working = admin.call("POST", links, {"recipients": [PARTNER], "groups": ["members"], "allow_upload": True})
    public = admin.call("POST", links, {"allow_upload": True}).data["link"]
    revoked = admin.call("POST", links, {}).data["link"]
    admin.call("DELETE", f"/api/links/{revoked['token']}")
    folder = _folder(admin, LONG)
    _folder(admin, f"{LONG} (older)", folder["file_id"])
    _file_in(admin, folder["file_id"], f"{LONG}.txt", b"minutes")
    folder_link = admin.call("POST", f"/api/files/{folder['file_id']}/links", {}).data["link"]
    invited = admin.call("POST", f"/api/files/{folder['file_id']}/collaborators", {"email": PARTNER, "role": "upload"})
    other = _folder(admin, f"{LONG} – open call")
    join = admin.call("POST", f"/api/files/{other['file_id']}/join-link", {"role": "view"}).data["join_link"]
    admin.call("POST", "/api/admin/external-users/sync")
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()))  # the first link has expired
    assert working.status_code == 201
    path = lambda url: "/" + url.split("/", 3)[3]  # noqa: E731 (the API answers with the test client's host)
    return {
        "file": file["file_id"],
        "folder": folder["file_id"],
        "invitation": path(invited.data["invitation"]["url"]),
        "join": path(join["url"]),
        "public": path(public["url"]),
        "folder_link": path(folder_link["url"]),
        "revoked": path(revoked["url"]),
    }


def _accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(t for n in v['nodes'] for t in n['target'])}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_no_page_scrolls_sideways_cuts_a_button_or_fails_axe_at_any_width(chromium, served, stack, client):
    world = _world(stack, client, served)
    member = _signed_in_context(chromium, served, "/console", ADMIN)
    partner = _signed_in_context(chromium, served, world["invitation"], PARTNER)
    member.goto("/admin?tab=collaborators")
    folders_of = member.get_by_role("link", name=f"Folders of {PARTNER_NAME}").get_attribute("href")
    anyone = chromium.new_context(base_url=served).new_page()
    anyone.goto(world["revoked"])  # a visit to a revoked link, for the history
    pages = [
        (member, "console", "/console"),
        (member, "console-folder", f"/console/folders/{world['folder']}"),
        (member, "file-details", f"/console/items/{world['file']}"),
        (member, "file-versions", f"/console/items/{world['file']}?tab=versions"),
        (member, "file-links", f"/console/items/{world['file']}?tab=links"),
        (member, "file-history", f"/console/items/{world['file']}?tab=history"),
        (member, "folder-collaborators", f"/console/items/{world['folder']}?tab=collaborators"),
        (member, "folder-links", f"/console/items/{world['folder']}?tab=links"),
        (member, "admin-people", "/admin"),
        (member, "admin-collaborators", f"/admin{folders_of}"),
        (member, "admin-groups", "/admin?tab=groups"),
        (member, "member-portal", "/portal"),
        (member, "home", "/"),
        (partner, "portal", "/portal"),
        (partner, "portal-folder", f"/portal/folders/{world['folder']}"),
        (partner, "join-requested", world["join"]),
        (partner, "not-a-member", "/console"),
        (partner, "profile", "/profile"),
        (anyone, "landing", world["public"]),
        (anyone, "folder-link", world["folder_link"]),
        (anyone, "link-gone", world["revoked"]),
    ]
    (SCREENSHOTS / "layout").mkdir(parents=True, exist_ok=True)
    problems = []
    for width in WIDTHS:
        for page, name, path in pages:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(path)
            page.wait_for_load_state()
            problems += [f"{name} at {width}: {problem}" for problem in page.evaluate(MEASURE)]
            if width == 1280:
                problems += [f"{name}: {problem}" for problem in _accessibility_problems(page)]
            page.screenshot(path=str(SCREENSHOTS / "layout" / f"{name}-{width}.png"), full_page=True)
    # A collaborator's file appears in the folder's list as soon as it is sent, without a reload.
    partner.goto(f"/portal/folders/{world['folder']}")
    partner.set_input_files(
        "#upload input[type=file]", files=[{"name": "Signed minutes.txt", "mimeType": "text/plain", "buffer": b"ok"}]
    )
    partner.get_by_role("button", name="Send").click()
    expect(partner.get_by_role("link", name="Download Signed minutes.txt")).to_be_visible(timeout=30_000)
    expect(partner.get_by_role("button", name="Send")).to_be_disabled()
    for page in (member, partner, anyone):
        page.context.close()
    assert not problems, "\n".join(problems)
