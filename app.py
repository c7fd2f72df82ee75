"""Handover's routes: each reads its input, calls chalicelib, and returns JSON or a page."""

from chalice import Chalice, Response

from chalicelib import auth, bodies, files, links, openapi, pages, paging, qr, uploads, versions, web
from chalicelib.audit import Actor

app = Chalice(app_name="handover")
app.register_middleware(web.middleware, "http")


def _request():
    return app.current_request


def _member():
    return auth.member(_request().headers.get("authorization"))


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
    page, cursor = files.list_files(member.sub, limit, web.query(request, "cursor"))
    return web.json_response({"files": [files.describe(f) for f in page], "next_cursor": cursor})


@app.route("/api/files/{file_id}", methods=["GET"])
def get_file(file_id: str) -> Response:
    member = _member()
    return web.json_response({"file": files.describe(files.owned_file(member.sub, file_id))})


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
    link = links.visit(token, web.actor(request))
    return web.html_response(pages.landing(link, token, web.site_url(request)))


@app.route("/s/{token}/download", methods=["GET"])
def download(token: str) -> Response:
    actor = web.actor(_request())
    return web.redirect(links.download_url(links.open_link(token, actor), actor))


# --- Recipient uploads: JSON, for the landing page's uploader and for scripts ----------


def _uploader() -> Actor:
    """Who sends a version through a link.

    The one place to check a browser session's CSRF token (sent as X-CSRF-Token) once
    sign-in brings sessions; anonymous recipients have no session to forge.
    """
    return web.actor(_request())


@app.route("/s/{token}/uploads", methods=["POST"])
def start_upload(token: str) -> Response:
    actor = _uploader()
    return web.json_response({"upload": uploads.start(token, _request().raw_body, actor)}, 201)


@app.route("/s/{token}/uploads/{upload_id}/plan", methods=["POST"])
def renew_recipient_upload(token: str, upload_id: str) -> Response:
    actor = _uploader()
    return web.json_response({"upload": uploads.renew(token, upload_id, actor)})


@app.route("/s/{token}/uploads/{upload_id}/complete", methods=["POST"])
def complete_upload(token: str, upload_id: str) -> Response:
    actor = _uploader()
    return web.json_response({"upload": uploads.complete(token, upload_id, actor)})


@app.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return web.static_response(name)
