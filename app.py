"""Handover's routes: each reads its input, calls chalicelib, and returns JSON or a page."""

from chalice import Chalice, Response

from chalicelib import audit, auth, bodies, console, files, links, login, openapi, pages, paging, qr, web
from chalicelib.config import get_settings
from chalicelib.errors import LoginRequired

app = Chalice(app_name="handover")
app.register_middleware(web.middleware, "http")

if get_settings().stage == "local":
    # The hosted login page's stand-in: never part of a deployed API (see local_login.py).
    from chalicelib import local_login

    app.register_blueprint(local_login.blueprint, url_prefix="/local-login")


def _request():
    return app.current_request


def _member():
    return auth.member(_request())


# --- Member API: files ---------------------------------------------------------------


@app.route("/api/files", methods=["POST"])
def create_file() -> Response:
    member = _member()
    record, upload = files.create_file(member.sub, bodies.new_file(_request().raw_body))
    return web.json_response({"file": files.describe(record), "upload": upload}, 201)


@app.route("/api/files", methods=["GET"])
def list_files() -> Response:
    member = _member()
    request = _request()
    limit = paging.limit(web.query(request, "limit"))
    folder = web.query(request, "folder_id")
    page, cursor = files.list_files(member.sub, limit, web.query(request, "cursor"), folder)
    return web.json_response({"files": [files.describe(f) for f in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}", methods=["GET"])
def get_file(file_id: str) -> Response:
    member = _member()
    return web.json_response({"file": files.describe(files.owned_file(member.sub, file_id))})


@app.route("/api/files/{file_id}", methods=["PATCH"])
def rename_file(file_id: str) -> Response:
    member = _member()
    request = _request()
    record = files.rename(member.sub, file_id, bodies.new_name(request.raw_body), web.actor(request, member))
    return web.json_response({"file": files.describe(record)})


@app.route("/api/folders", methods=["POST"])
def create_folder() -> Response:
    member = _member()
    request = _request()
    folder = files.create_folder(member.sub, bodies.new_folder(request.raw_body), web.actor(request, member))
    return web.json_response({"file": files.describe(folder)}, 201)


@app.route("/api/files/{file_id}/events", methods=["GET"])
def list_events(file_id: str) -> Response:
    member = _member()
    request = _request()
    record = files.owned_file(member.sub, file_id)
    limit = paging.limit(web.query(request, "limit"))
    page, cursor = audit.events_of(record.file_id, limit, web.query(request, "cursor"))
    return web.json_response({"events": [audit.describe(e) for e in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}/events.csv", methods=["GET"])
def export_events(file_id: str) -> Response:
    member = _member()
    record = files.owned_file(member.sub, file_id)
    return web.csv_response(audit.as_csv(record.file_id), f"history-{record.name}.csv")


@app.route("/api/files/{file_id}", methods=["DELETE"])
def delete_file(file_id: str) -> Response:
    member = _member()
    files.delete_file(member.sub, file_id, web.actor(_request(), member))
    return Response(body="", status_code=204)


@app.route("/api/files/{file_id}/upload", methods=["POST"])
def renew_upload(file_id: str) -> Response:
    member = _member()
    return web.json_response({"upload": files.renew_upload(member.sub, file_id)})


@app.route("/api/files/{file_id}/complete", methods=["POST"])
def complete_file(file_id: str) -> Response:
    member = _member()
    record = files.complete_file(member.sub, file_id, web.actor(_request(), member))
    return web.json_response({"file": files.describe(record)})


# --- Member API: links ---------------------------------------------------------------


@app.route("/api/files/{file_id}/links", methods=["POST"])
def create_link(file_id: str) -> Response:
    member = _member()
    request = _request()
    options = bodies.new_link(request.raw_body)
    link = links.create_link(files.owned_file(member.sub, file_id), options, web.actor(request, member))
    return web.json_response({"link": links.describe(link, web.site_url(request))}, 201)


@app.route("/api/files/{file_id}/links", methods=["GET"])
def list_links(file_id: str) -> Response:
    member = _member()
    site = web.site_url(_request())
    found = links.links_of_file(files.owned_file(member.sub, file_id))
    return web.json_response({"links": [links.describe(link, site) for link in found]})


@app.route("/api/links/{token}", methods=["PATCH"])
def change_link(token: str) -> Response:
    member = _member()
    request = _request()
    change = bodies.link_change(request.raw_body)
    link = links.change_link(links.owned_link(member.sub, token), change, web.actor(request, member))
    return web.json_response({"link": links.describe(link, web.site_url(request))})


@app.route("/api/links/{token}", methods=["DELETE"])
def revoke_link(token: str) -> Response:
    member = _member()
    request = _request()
    link = links.revoke_link(links.owned_link(member.sub, token), web.actor(request, member))
    return web.json_response({"link": links.describe(link, web.site_url(request))})


@app.route("/api/links/{token}/qr.svg", methods=["GET"])
def link_qr_svg(token: str) -> Response:
    member = _member()
    links.owned_link(member.sub, token)
    svg = qr.svg(f"{web.site_url(_request())}/s/{token}")
    return Response(body=svg, headers={"Content-Type": "image/svg+xml"})


@app.route("/api/links/{token}/qr.png", methods=["GET"])
def link_qr_png(token: str) -> Response:
    member = _member()
    links.owned_link(member.sub, token)
    png = qr.png(f"{web.site_url(_request())}/s/{token}")
    return Response(body=png, headers={"Content-Type": "image/png"})


@app.route("/api/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return web.json_response(openapi.document())


# --- Recipient pages -----------------------------------------------------------------


@app.route("/s/{token}", methods=["GET"])
def landing(token: str) -> Response:
    request = _request()
    viewer = auth.caller(request)
    person = viewer.person if viewer else None
    link = links.visit(token, person, web.actor(request, person))
    site = web.site_url(request)
    if link.target.kind == "folder":
        folder, trail, items = links.folder_view(link, web.query(request, "folder"))
        return web.html_response(pages.folder(link, token, site, viewer, folder, trail, items))
    return web.html_response(pages.landing(link, token, site, viewer))


@app.route("/s/{token}/download", methods=["GET"])
def download(token: str) -> Response:
    request = _request()
    viewer = auth.caller(request)
    person = viewer.person if viewer else None
    actor = web.actor(request, person)
    return web.redirect(links.download_url(links.open_link(token, actor), person, actor))


@app.route("/s/{token}/files/{file_id}/download", methods=["GET"])
def download_from_folder(token: str, file_id: str) -> Response:
    request = _request()
    viewer = auth.caller(request)
    person = viewer.person if viewer else None
    actor = web.actor(request, person)
    return web.redirect(links.folder_file_url(links.open_link(token, actor), file_id, person, actor))


@app.route("/portal", methods=["GET"])
def portal() -> Response:
    request = _request()
    viewer = auth.caller(request)
    if viewer is None:
        raise LoginRequired("Sign in to see what was shared with you.")
    return web.html_response(pages.portal(viewer, links.released_to(viewer.person), web.site_url(request)))


@app.route("/", methods=["GET"])
def home() -> Response:
    request = _request()
    return web.html_response(pages.home(auth.caller(request), web.site_url(request)))


# --- Member console (pages; changes go through the API above) -------------------------


@app.route("/console", methods=["GET"])
def console_top() -> Response:
    request = _request()
    viewer = console.member_viewer(request)
    return web.html_response(console.folder_page(viewer, web.site_url(request), None, web.query(request, "cursor")))


@app.route("/console/folders/{folder_id}", methods=["GET"])
def console_folder(folder_id: str) -> Response:
    request = _request()
    viewer = console.member_viewer(request)
    cursor = web.query(request, "cursor")
    return web.html_response(console.folder_page(viewer, web.site_url(request), folder_id, cursor))


@app.route("/console/items/{file_id}", methods=["GET"])
def console_item(file_id: str) -> Response:
    request = _request()
    viewer = console.member_viewer(request)
    tab, cursor = web.query(request, "tab"), web.query(request, "cursor")
    return web.html_response(console.item_page(viewer, web.site_url(request), file_id, tab, cursor))


# --- Sign-in through the hosted login page --------------------------------------------


@app.route("/auth/login", methods=["GET"])
def sign_in() -> Response:
    request = _request()
    started = login.begin(web.site_url(request), login.safe_next(web.query(request, "next")))
    return web.redirect(started.location, started.cookies)


@app.route("/auth/callback", methods=["GET"])
def sign_in_callback() -> Response:
    request = _request()
    done = login.finish(
        web.site_url(request), web.query(request, "code"), web.query(request, "state"), request.headers.get("cookie")
    )
    return web.redirect(done.location, done.cookies)


@app.route("/auth/logout", methods=["GET"])
def sign_out() -> Response:
    request = _request()
    next_path = login.safe_next(web.query(request, "next"))
    done = login.logout(web.site_url(request), request.headers.get("cookie"), next_path)
    return web.redirect(done.location, done.cookies)


@app.route("/auth/signed-out", methods=["GET"])
def signed_out() -> Response:
    request = _request()
    done = login.signed_out(web.site_url(request), request.headers.get("cookie"))
    return web.redirect(done.location, done.cookies)


@app.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return web.static_response(name)
