"""Handover's routes: each reads its input, calls chalicelib, and returns JSON or a page."""

from urllib.parse import unquote, urlencode

from chalice import Chalice, Response

from chalicelib import (
    admin_pages,
    audit,
    auth,
    bodies,
    collaborators,
    console,
    directory,
    files,
    folder_links,
    groups,
    links,
    login,
    openapi,
    pages,
    paging,
    people,
    qr,
    uploads,
    versions,
    web,
)
from chalicelib.audit import Actor
from chalicelib.config import get_settings
from chalicelib.directory import Person
from chalicelib.errors import LoginRequired

app = Chalice(app_name="handover", configure_logs=False)
web.install(app)

if get_settings().stage == "local":
    # The hosted login page's stand-in: never part of a deployed API (see devstack/local_login.py).
    from devstack import local_login

    app.register_blueprint(local_login.blueprint, url_prefix="/local-login")


def _request():
    return app.current_request


def _member():
    return auth.member(_request())


def _visitor() -> web.Visitor:
    return web.visitor(_request())


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
    request = _request()
    record = files.owned_file(member.sub, file_id)
    text, cursor = audit.as_csv(record.file_id, web.query(request, "cursor"))
    more = f"{web.site_url(request)}/api/files/{file_id}/events.csv?{urlencode({'cursor': cursor})}" if cursor else None
    return web.csv_response(text, f"history-{record.name}.csv", more)


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


@app.route("/api/files/{file_id}/versions", methods=["GET"])
def list_versions(file_id: str) -> Response:
    member = _member()
    request = _request()
    file = files.owned_file(member.sub, file_id)
    limit = paging.limit(web.query(request, "limit"))
    page, cursor = versions.list_versions(file, limit, web.query(request, "cursor"))
    site = web.site_url(request)
    return web.json_response({"versions": [versions.describe(v, file, site) for v in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}/versions/{version_id}/download", methods=["GET"])
def download_version(file_id: str, version_id: str) -> Response:
    member = _member()
    actor = web.actor(_request(), member)
    return web.redirect(versions.download_url(files.owned_file(member.sub, file_id), version_id, actor))


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
    svg = qr.svg(links.addresses(token, web.site_url(_request()))["url"])
    return Response(body=svg, headers={"Content-Type": "image/svg+xml"})


@app.route("/api/links/{token}/qr.png", methods=["GET"])
def link_qr_png(token: str) -> Response:
    member = _member()
    links.owned_link(member.sub, token)
    png = qr.png(links.addresses(token, web.site_url(_request()))["url"])
    return Response(body=png, headers={"Content-Type": "image/png"})


# --- Member API: collaborators on folders -----------------------------------------------


@app.route("/api/files/{file_id}/collaborators", methods=["GET"])
def list_collaborators(file_id: str) -> Response:
    member = _member()
    return web.json_response(collaborators.of_folder(member.sub, file_id))


@app.route("/api/files/{file_id}/collaborators", methods=["POST"])
def invite_collaborator(file_id: str) -> Response:
    member = _member()
    request = _request()
    email, role = bodies.invitation(request.raw_body)
    invitation = collaborators.invite(member.sub, file_id, email, role, web.actor(request, member))
    return web.json_response({"invitation": collaborators.describe_invitation(invitation, web.site_url(request))}, 201)


@app.route("/api/files/{file_id}/join-link", methods=["POST"])
def create_join_link(file_id: str) -> Response:
    member = _member()
    request = _request()
    role = bodies.join_link(request.raw_body)
    invitation = collaborators.join_link(member.sub, file_id, role, web.actor(request, member))
    return web.json_response({"join_link": collaborators.describe_invitation(invitation, web.site_url(request))}, 201)


@app.route("/api/files/{file_id}/requests/{request_id}", methods=["POST"])
def answer_join_request(file_id: str, request_id: str) -> Response:
    member = _member()
    request = _request()
    approve = bodies.decision(request.raw_body)
    collaborators.decide(member.sub, file_id, unquote(request_id), approve, web.actor(request, member))
    return web.json_response(collaborators.of_folder(member.sub, file_id))


@app.route("/api/files/{file_id}/collaborators/{person}", methods=["DELETE"])
def remove_collaborator(file_id: str, person: str) -> Response:
    member = _member()
    who = collaborators.normalise_person(unquote(person))
    collaborators.remove_from_own(member.sub, file_id, who, web.actor(_request(), member))
    return Response(body="", status_code=204)


# --- Admin API: external users --------------------------------------------------------


@app.route("/api/admin/external-users", methods=["GET"])
def list_external_users() -> Response:
    auth.admin(_request())
    found, cursor = people.list_external(bodies.people_query(_request().query_params or {}))
    return web.json_response({"users": [people.describe(p) for p in found], "next_cursor": cursor})


@app.route("/api/admin/external-users/sync", methods=["POST"])
def sync_external_users() -> Response:
    auth.admin(_request())
    return web.json_response(people.sync())


@app.route("/api/admin/external-users/{username}", methods=["DELETE"])
def delete_external_user(username: str) -> Response:
    admin = auth.admin(_request())
    people.delete_external(username, web.actor(_request(), admin))
    return Response(body="", status_code=204)


@app.route("/api/admin/external-users/delete", methods=["POST"])
def delete_external_users() -> Response:
    request = _request()
    admin = auth.admin(request)
    return web.json_response(people.delete_many(bodies.usernames(request.raw_body), web.actor(request, admin)))


# --- Admin API: collaborators -----------------------------------------------------------


@app.route("/api/admin/collaborators", methods=["GET"])
def list_all_collaborators() -> Response:
    auth.admin(_request())
    return web.json_response({"collaborators": collaborators.collaborators_list()})


@app.route("/api/admin/collaborators/{username}/folders", methods=["GET"])
def collaborator_folders(username: str) -> Response:
    auth.admin(_request())
    _, folders = collaborators.folders_of_user(username)
    return web.json_response({"folders": folders})


@app.route("/api/admin/collaborators/{username}/folders/{folder_id}", methods=["DELETE"])
def remove_collaborator_from_folder(username: str, folder_id: str) -> Response:
    request = _request()
    admin = auth.admin(request)
    person, _ = collaborators.folders_of_user(username)
    collaborators.remove(folder_id, person, web.actor(request, admin))
    return Response(body="", status_code=204)


@app.route("/api/admin/collaborators/{username}", methods=["DELETE"])
def remove_collaborator_everywhere(username: str) -> Response:
    request = _request()
    admin = auth.admin(request)
    person, _ = collaborators.folders_of_user(username)
    collaborators.forget(person, web.actor(request, admin))
    return Response(body="", status_code=204)


# --- Admin API: directory groups ------------------------------------------------------


@app.route("/api/admin/groups", methods=["GET"])
def list_groups() -> Response:
    auth.admin(_request())
    return web.json_response({"groups": directory.directory_groups()})


@app.route("/api/admin/groups", methods=["POST"])
def create_group() -> Response:
    request = _request()
    admin = auth.admin(request)
    return web.json_response(
        {"group": groups.create(bodies.new_group(request.raw_body), web.actor(request, admin))}, 201
    )


@app.route("/api/admin/groups/{name}", methods=["PATCH"])
def rename_group(name: str) -> Response:
    request = _request()
    admin = auth.admin(request)
    renamed = groups.rename(name, bodies.new_group(request.raw_body), web.actor(request, admin))
    return web.json_response({"group": renamed})


@app.route("/api/admin/groups/{name}", methods=["DELETE"])
def delete_group(name: str) -> Response:
    request = _request()
    groups.delete(name, web.actor(request, auth.admin(request)))
    return Response(body="", status_code=204)


@app.route("/api/admin/groups/{name}/people", methods=["POST"])
def add_to_group(name: str) -> Response:
    request = _request()
    admin = auth.admin(request)
    groups.add_person(name, bodies.person_ref(request.raw_body), web.actor(request, admin))
    return Response(body="", status_code=204)


@app.route("/api/admin/groups/{name}/people/{person}", methods=["DELETE"])
def remove_from_group(name: str, person: str) -> Response:
    request = _request()
    groups.remove_person(name, unquote(person), web.actor(request, auth.admin(request)))
    return Response(body="", status_code=204)


@app.route("/api/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return web.json_response(openapi.document())


# --- Recipient pages -----------------------------------------------------------------


@app.route("/s/{token}", methods=["GET"])
def landing(token: str) -> Response:
    request, visitor = _request(), _visitor()
    link = links.visit(token, visitor.person, visitor.actor)
    site = web.site_url(request)
    if link.target.kind == "folder":
        folder, trail, items = folder_links.folder_view(link, web.query(request, "folder"))
        return web.html_response(pages.folder(link, token, site, visitor.viewer, folder, trail, items))
    return web.html_response(pages.landing(link, token, site, visitor.viewer))


@app.route("/s/{token}/download", methods=["GET"])
def download(token: str) -> Response:
    visitor = _visitor()
    link = links.open_link(token, visitor.actor)
    return web.redirect(links.download_url(link, visitor.person, visitor.actor))


@app.route("/s/{token}/files/{file_id}/download", methods=["GET"])
def download_from_folder(token: str, file_id: str) -> Response:
    visitor = _visitor()
    link = links.open_link(token, visitor.actor)
    return web.redirect(folder_links.folder_file_url(link, file_id, visitor.person, visitor.actor))


@app.route("/portal", methods=["GET"])
def portal() -> Response:
    request = _request()
    viewer = auth.caller(request)
    if viewer is None:
        raise LoginRequired("Sign in to see what was shared with you.")
    released, folders = links.released_to(viewer.person), collaborators.folders_of(viewer.person)
    return web.html_response(pages.portal(viewer, released, folders, web.site_url(request)))


@app.route("/join/{token}", methods=["GET"])
def join(token: str) -> Response:
    request, visitor = _request(), _visitor()
    outcome, folder = collaborators.accept(token, visitor.person, visitor.actor)
    site = web.site_url(request)
    if outcome == "joined":
        return web.redirect(f"{site}/portal/folders/{folder.file_id}")
    return web.html_response(pages.join_requested(visitor.viewer, folder, site))


@app.route("/portal/folders/{folder_id}", methods=["GET"])
def portal_folder(folder_id: str) -> Response:
    request, visitor = _request(), _visitor()
    shared, shown = collaborators.folder_for(visitor.person, folder_id, web.query(request, "folder"))
    role = collaborators.role_in(visitor.person, folder_id)
    items = files.children(shown)
    return web.html_response(pages.portal_folder(visitor.viewer, shared, shown, items, role, web.site_url(request)))


@app.route("/portal/folders/{folder_id}/files/{file_id}/download", methods=["GET"])
def portal_download(folder_id: str, file_id: str) -> Response:
    visitor = _visitor()
    return web.redirect(collaborators.download_url(visitor.person, folder_id, file_id, visitor.actor))


@app.route("/admin", methods=["GET"])
def admin_page() -> Response:
    request = _request()
    viewer = admin_pages.admin_viewer(auth.caller(request))
    return web.html_response(admin_pages.render(viewer, request.query_params or {}, web.site_url(request)))


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


# --- Recipient uploads: JSON, for the landing page's uploader and for scripts ----------


def _uploader() -> tuple[Person | None, Actor]:
    """Who sends a version through a link; a browser session must send its CSRF token."""
    visitor = _visitor()
    auth.check_csrf(_request(), visitor.viewer)
    return visitor.person, visitor.actor


@app.route("/s/{token}/uploads", methods=["POST"])
def start_upload(token: str) -> Response:
    person, actor = _uploader()
    inbox = uploads.through_link(token, person, actor)
    return web.json_response({"upload": uploads.start(inbox, _request().raw_body, actor)}, 201)


@app.route("/s/{token}/uploads/{upload_id}/plan", methods=["POST"])
def renew_recipient_upload(token: str, upload_id: str) -> Response:
    person, actor = _uploader()
    return web.json_response({"upload": uploads.renew(uploads.through_link(token, person, actor), upload_id, actor)})


@app.route("/s/{token}/uploads/{upload_id}/complete", methods=["POST"])
def complete_upload(token: str, upload_id: str) -> Response:
    person, actor = _uploader()
    inbox = uploads.through_link(token, person, actor)
    return web.json_response({"upload": uploads.complete(inbox, upload_id, actor)})


@app.route("/portal/folders/{folder_id}/uploads", methods=["POST"])
def start_folder_upload(folder_id: str) -> Response:
    person, actor = _uploader()
    inbox = collaborators.inbox(person, folder_id)
    return web.json_response({"upload": uploads.start(inbox, _request().raw_body, actor)}, 201)


@app.route("/portal/folders/{folder_id}/uploads/{upload_id}/plan", methods=["POST"])
def renew_folder_upload(folder_id: str, upload_id: str) -> Response:
    person, actor = _uploader()
    return web.json_response({"upload": uploads.renew(collaborators.inbox(person, folder_id), upload_id, actor)})


@app.route("/portal/folders/{folder_id}/uploads/{upload_id}/complete", methods=["POST"])
def complete_folder_upload(folder_id: str, upload_id: str) -> Response:
    person, actor = _uploader()
    inbox = collaborators.inbox(person, folder_id)
    return web.json_response({"upload": uploads.complete(inbox, upload_id, actor)})


@app.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return web.static_response(name)
